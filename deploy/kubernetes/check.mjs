// Offline checks of the deployment files (kubeconform needs the network):
//   node deploy/kubernetes/check.mjs        (from the repository root, after npm ci)
// - every YAML file under deploy/ and docker-compose.yml parses (all documents);
// - every Kubernetes object has apiVersion, kind and metadata.name;
// - the policy copies here are byte-identical to policies/;
// - every environment variable the manifests and compose set is one src/config/config.ts reads;
// - the Secrets, ConfigMaps and PVC the workloads reference are defined (or in secrets.example.yaml).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const failures = [];
const fail = (message) => failures.push(message);

function yamlFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

const parsed = new Map();
for (const path of [...yamlFiles('deploy'), 'docker-compose.yml']) {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { merge: true }); // compose's <<
  for (const doc of docs) for (const error of doc.errors) fail(`${path}: ${error.message}`);
  parsed.set(
    path,
    docs.map((d) => d.toJS()).filter((d) => d !== null),
  );
}

const k8sFiles = [...parsed.keys()].filter(
  (p) => p.startsWith('deploy/kubernetes/') && !p.startsWith('deploy/kubernetes/policies/'),
);
const objects = k8sFiles.flatMap((p) =>
  p.endsWith('kustomization.yaml') ? [] : parsed.get(p).map((o) => ({ file: p, o })),
);
for (const { file, o } of objects) {
  if (!o.apiVersion || !o.kind || !o.metadata?.name)
    fail(`${file}: object without apiVersion/kind/metadata.name`);
}

const kustomization = parsed.get('deploy/kubernetes/kustomization.yaml')[0];
for (const resource of kustomization.resources) {
  if (!parsed.has(`deploy/kubernetes/${resource}`)) fail(`kustomization: ${resource} missing`);
}
for (const file of kustomization.configMapGenerator.flatMap((g) => g.files)) {
  const copy = readFileSync(`deploy/kubernetes/${file}`, 'utf8');
  const original = readFileSync(file.replace(/^policies\//, 'policies/'), 'utf8');
  if (copy !== original) fail(`deploy/kubernetes/${file} differs from ${file}`);
}

// The names config.ts reads: read.<kind>('NAME', …) and read.<kind>('NAME').
const configSource = readFileSync('src/config/config.ts', 'utf8');
const known = new Set([...configSource.matchAll(/read\.\w+\(\s*'([A-Z0-9_]+)'/g)].map((m) => m[1]));
const used = [];
for (const { file, o } of objects) {
  const spec = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec;
  for (const c of spec?.containers ?? []) for (const e of c.env ?? []) used.push([file, e.name]);
  if (o.kind === 'ConfigMap' && o.metadata.name === 'gatehouse-config')
    for (const name of Object.keys(o.data)) used.push([file, name]);
}
for (const [name, service] of Object.entries(parsed.get('docker-compose.yml')[0].services)) {
  if (!String(service.image ?? 'gatehouse').includes('gatehouse') && !service.build) continue;
  const env = service.environment ?? {};
  for (const dependency of Object.keys(service.depends_on ?? {})) {
    if (dependency === name || !(dependency in parsed.get('docker-compose.yml')[0].services))
      fail(`docker-compose.yml: ${name} depends on ${dependency}`);
  }
  for (const key of Array.isArray(env) ? env.map((e) => e.split('=')[0]) : Object.keys(env))
    used.push([`docker-compose.yml (${name})`, key]);
}
for (const [file, name] of used)
  if (!known.has(name)) fail(`${file}: ${name} is not read by src/config/config.ts`);

// References between objects.
const defined = new Set(objects.map(({ o }) => `${o.kind}/${o.metadata.name}`));
for (const g of kustomization.configMapGenerator) defined.add(`ConfigMap/${g.name}`);
for (const { file, o } of objects) {
  const spec = o.spec?.template?.spec;
  if (!spec) continue;
  const refs = [];
  for (const v of spec.volumes ?? []) {
    if (v.secret && !v.secret.optional) refs.push(`Secret/${v.secret.secretName}`);
    if (v.configMap) refs.push(`ConfigMap/${v.configMap.name}`);
    if (v.persistentVolumeClaim)
      refs.push(`PersistentVolumeClaim/${v.persistentVolumeClaim.claimName}`);
  }
  for (const c of spec.containers) {
    for (const f of c.envFrom ?? [])
      if (f.configMapRef) refs.push(`ConfigMap/${f.configMapRef.name}`);
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref && !ref.optional) refs.push(`Secret/${ref.name}`);
    }
  }
  for (const ref of refs)
    if (!defined.has(ref))
      fail(`${file}: ${o.kind}/${o.metadata.name} refers to ${ref}, defined nowhere`);
}

if (failures.length > 0) {
  process.stderr.write(`${failures.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(
  `ok: ${parsed.size} YAML files, ${objects.length} Kubernetes objects, ${used.length} environment variables known to config.ts\n`,
);
