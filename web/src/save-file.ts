/** Hands fetched bytes to the browser's downloads, as a link with `download` would. */
export function saveFile(name: string, blob: Blob): void {
  const href = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = href;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download reads the object URL after click() returns: freed once it surely has.
  window.setTimeout(() => {
    URL.revokeObjectURL(href);
  }, 60_000);
}
