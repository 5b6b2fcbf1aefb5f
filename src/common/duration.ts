/** `90`, `90s`, `15m`, `1h`, `7d` → seconds. Returns undefined for anything else. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] ?? ''] ?? 1;
  const seconds = value * unit;
  return seconds > 0 ? seconds : undefined;
}
