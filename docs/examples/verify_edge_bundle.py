#!/usr/bin/env python3
"""Verifies a Gatehouse edge bundle offline, as docs/edge.md describes it.

Usage: verify_edge_bundle.py BUNDLE.tar JWKS.json

Python's standard library, and the `cryptography` package for Ed25519. Exits 0 and prints one
line when the bundle verifies; exits 1 naming the file and the reason when it does not.
"""
import base64
import hashlib
import json
import re
import sys
import tarfile

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MANIFEST, MANIFEST_JWS = "manifest.json", "manifest.jws"
FILES = [
    "checkpoint.json",
    "deployment-event.ndjson",
    "inclusion-proof.json",
    "model-card.json",
    "model.onnx",
    "promotion.json",
    "spec.json",
]
# All of them or none: a rollout's candidate, for the devices its stage covers.
CANDIDATE_FILES = [
    "assignment.json",
    "candidate-event.ndjson",
    "candidate-inclusion-proof.json",
    "candidate-promotion.json",
    "candidate-spec.json",
    "candidate.onnx",
]
SERIALIZATION = {
    "method": "files",
    "hash_type": "sha256",
    "allow_symlinks": False,
    "ignore_paths": [MANIFEST, MANIFEST_JWS],
}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class Refused(Exception):
    def __init__(self, file, reason):
        super().__init__(f"{file}: {reason}")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def trusted_keys(jwks):
    """Ed25519 keys whose kid is their RFC 7638 thumbprint."""
    keys = {}
    for key in jwks.get("keys", []):
        if key.get("kty") != "OKP" or key.get("crv") != "Ed25519" or "x" not in key:
            continue
        members = json.dumps(
            {"crv": "Ed25519", "kty": "OKP", "x": key["x"]}, separators=(",", ":"), sort_keys=True
        )
        if b64url(hashlib.sha256(members.encode()).digest()) != key.get("kid"):
            continue
        keys[key["kid"]] = Ed25519PublicKey.from_public_bytes(b64url_decode(key["x"]))
    return keys


def verify_jws(file, jws, payload, keys):
    """A compact JWS; `payload` None for an attached one. Returns the signed payload."""
    parts = jws.split(".")
    if len(parts) != 3:
        raise Refused(file, "not a compact JWS")
    # The last character of an Ed25519 signature carries unused bits: one spelling only.
    if any(b64url(b64url_decode(part)) != part for part in parts):
        raise Refused(file, "not in canonical base64url")
    header = json.loads(b64url_decode(parts[0]))
    if set(header) != {"alg", "kid"} or header["alg"] != "EdDSA":
        raise Refused(file, 'the protected header must be exactly {"alg":"EdDSA","kid":…}')
    if header["kid"] not in keys:
        raise Refused(file, f"signed with key {header['kid']}, which is not in the trusted JWKS")
    if payload is None:
        signed_part = parts[1]
    elif parts[1] == "":
        signed_part = b64url(payload)
    else:
        raise Refused(file, "the payload of a detached JWS must be empty")
    try:
        keys[header["kid"]].verify(
            b64url_decode(parts[2]), f"{parts[0]}.{signed_part}".encode("ascii")
        )
    except InvalidSignature:
        raise Refused(file, f"bad signature (key {header['kid']})")
    return b64url_decode(signed_part), header["kid"]


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).hexdigest()


def inclusion_root(leaf, index, tree_size, proof):
    """RFC 9162 section 2.1.3.2; None when no proof of this length fits."""
    if index >= tree_size:
        return None
    fn, sn, r = index, tree_size - 1, bytes.fromhex(leaf)
    for p in proof:
        if sn == 0:
            return None
        p = bytes.fromhex(p)
        if fn % 2 == 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn // 2, sn // 2
    return r.hex() if sn == 0 else None


def check_event(file, data, keys):
    """An NDJSON export line: its canonical text is embedded byte for byte. Returns it parsed."""
    line = data.decode("utf-8")
    record = json.loads(line)
    prefix, suffix = '{"event":', f',"hash":"{record["hash"]}","jws":"{record["jws"]}"}}\n'
    if not (line.startswith(prefix) and line.endswith(suffix)):
        raise Refused(file, "not one line of the ledger's NDJSON export")
    canonical = line[len(prefix) : -len(suffix)].encode("utf-8")
    if leaf_hash(canonical) != record["hash"]:
        raise Refused(file, "hash mismatch")
    verify_jws(file, record["jws"], canonical, keys)
    return record


def check_proof(file, proof, record, cp):
    """The event's RFC 9162 inclusion proof against the checkpoint."""
    if proof["seq"] != record["event"]["seq"] or proof["leafHash"] != record["hash"]:
        raise Refused(file, "the proof is of another event")
    if proof["treeSize"] != cp["treeSize"] or proof["rootHash"] != cp["rootHash"]:
        raise Refused(file, "the proof is against another tree")
    root = inclusion_root(record["hash"], record["event"]["seq"] - 1, cp["treeSize"], proof["proof"])
    if root != cp["rootHash"]:
        raise Refused(file, "the inclusion proof does not lead to the checkpoint's root")


def check_approvals(file, promotion):
    for a in promotion["approvals"]:
        if a["requestDigest"] != promotion["requestDigest"]:
            raise Refused(file, f"{a['approver']} approved another request")
        statement = None if a["statement"] is None else sha256(a["statement"].encode("utf-8"))
        if a["statementSha256"] != statement:
            raise Refused(file, f"{a['approver']}'s statement is not its digest")


def check_candidate(members, keys, spec, cp):
    """The candidate's files as strictly as the live ones; the assignment is its stage event's."""
    cspec = json.loads(members["candidate-spec.json"])
    cpromotion = json.loads(members["candidate-promotion.json"])
    assignment = json.loads(members["assignment.json"])
    record = check_event("candidate-event.ndjson", members["candidate-event.ndjson"], keys)
    check_proof(
        "candidate-inclusion-proof.json",
        json.loads(members["candidate-inclusion-proof.json"]),
        record,
        cp,
    )
    event, payload = record["event"], record["event"]["payload"]
    if event["type"] != "rollout.stage.entered":
        raise Refused("candidate-event.ndjson", f"the event is a {event['type']}")
    mode = assignment["mode"]
    if mode not in ("shadow", "canary"):
        raise Refused("assignment.json", "mode must be shadow or canary")
    share = "sampleBasisPoints" if mode == "shadow" else "weightBasisPoints"
    expected = [
        ("subject", event["subject"], f"rollout:{assignment['rolloutId']}"),
        ("rolloutId", payload["rolloutId"], assignment["rolloutId"]),
        ("endpoint", payload["endpoint"], assignment["endpoint"]),
        ("stage", payload["stage"], assignment["stage"]),
        ("index", payload["index"], assignment["stageIndex"]),
        ("kind", payload["kind"], "SHADOW" if mode == "shadow" else "CANARY"),
        ("version", payload["version"], assignment["candidateVersion"]),
        (share, payload[share], assignment["basisPoints"]),
    ]
    for name, recorded, assigned in expected:
        if recorded != assigned:
            raise Refused("assignment.json", f"the assignment's {name} is not the stage event's")
    if assignment["endpoint"] != spec["endpoint"] or assignment["liveVersion"] != spec["version"]:
        raise Refused("assignment.json", "the assignment is of another live version")
    if [cspec["endpoint"], cspec["model"], cspec["version"]] != [
        spec["endpoint"],
        spec["model"],
        assignment["candidateVersion"],
    ] or cspec["version"] == spec["version"]:
        raise Refused("candidate-spec.json", "the candidate spec is not the assignment's candidate")
    if cspec["artifactSha256"] != sha256(members["candidate.onnx"]):
        raise Refused("candidate.onnx", "the candidate model is not the artifact its spec names")
    if [cpromotion[k] for k in ("rolloutId", "endpoint", "model", "version")] != [
        assignment["rolloutId"],
        cspec["endpoint"],
        cspec["model"],
        cspec["version"],
    ]:
        raise Refused("candidate-promotion.json", "the promotion is of another rollout")
    check_approvals("candidate-promotion.json", cpromotion)
    return (
        f"; candidate {cspec['model']}@{cspec['version']} ({mode}, stage {assignment['stage']} "
        f"of rollout {assignment['rolloutId']}, {assignment['basisPoints']} basis points, "
        f"ledger seq {event['seq']})"
    )


def read_members(path):
    members = {}
    with tarfile.open(path, "r:") as tar:
        for info in tar.getmembers():
            if not info.isreg():
                raise Refused(info.name, "is not a regular file")
            if not NAME.match(info.name):
                raise Refused(info.name, "is not a flat member name")
            if info.name in members:
                raise Refused(info.name, "appears twice")
            members[info.name] = tar.extractfile(info).read()
    return members


def verify(path, jwks):
    keys = trusted_keys(jwks)
    members = read_members(path)

    # The signature over the manifest's bytes, then the manifest, then every file against it.
    if MANIFEST_JWS not in members:
        raise Refused(MANIFEST_JWS, "the bundle carries no signature")
    if MANIFEST not in members:
        raise Refused(MANIFEST, "the bundle carries no manifest")
    _, kid = verify_jws(MANIFEST_JWS, members[MANIFEST_JWS].decode("ascii"), members[MANIFEST], keys)
    manifest = json.loads(members[MANIFEST])
    if manifest.get("_type") != "https://in-toto.io/Statement/v1":
        raise Refused(MANIFEST, "not an in-toto Statement v1")
    if manifest.get("predicateType") != "https://model_signing/signature/v1.0":
        raise Refused(MANIFEST, "not a model_signing v1.0 predicate")
    if manifest["predicate"]["serialization"] != SERIALIZATION:
        raise Refused(MANIFEST, "not the files serialization")
    resources = manifest["predicate"]["resources"]
    subject = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources)).hexdigest()
    if len(manifest["subject"]) != 1 or manifest["subject"][0]["digest"]["sha256"] != subject:
        raise Refused(MANIFEST, "the subject digest is not the digest of the resources listed")
    listed = {r["name"]: r for r in resources}
    for name in members:
        if name not in listed and name not in (MANIFEST, MANIFEST_JWS):
            raise Refused(name, "the file is not in the signed manifest")
    with_candidate = any(name in members for name in CANDIDATE_FILES)
    required = set(FILES) | (set(CANDIDATE_FILES) if with_candidate else set())
    for name in sorted(set(listed) | required):
        if name not in members:
            raise Refused(name, "the file is missing")
        if name not in FILES and name not in CANDIDATE_FILES:
            raise Refused(name, "the file is not part of an edge bundle")
        if listed[name]["algorithm"] != "sha256" or sha256(members[name]) != listed[name]["digest"]:
            raise Refused(name, "its SHA-256 is not the one the signed manifest lists")

    spec = json.loads(members["spec.json"])
    promotion = json.loads(members["promotion.json"])
    checkpoint = json.loads(members["checkpoint.json"])
    proof = json.loads(members["inclusion-proof.json"])

    # The go-live event: its canonical text is embedded byte for byte in the export line.
    event_file = "deployment-event.ndjson"
    record = check_event(event_file, members[event_file], keys)
    event = record["event"]
    if event["type"] != "deployment.live.changed":
        raise Refused(event_file, f"the event is a {event['type']}")
    if event["subject"] != f"endpoint:{spec['endpoint']}":
        raise Refused(event_file, "the event is of another endpoint")
    if event["payload"]["to"]["liveVersion"] != spec["version"]:
        raise Refused(event_file, f"the event does not put version {spec['version']} live")

    # The checkpoint, and the event's inclusion proof against it.
    signed, _ = verify_jws("checkpoint.json", checkpoint["jws"], None, keys)
    if json.loads(signed) != checkpoint["checkpoint"]:
        raise Refused("checkpoint.json", "the signed checkpoint is not the one shown")
    cp = checkpoint["checkpoint"]
    check_proof("inclusion-proof.json", proof, record, cp)

    # The parts describe one deployment.
    if spec["artifactSha256"] != sha256(members["model.onnx"]):
        raise Refused("model.onnx", "the model is not the artifact the spec names")
    if manifest["subject"][0]["name"] != f"{spec['model']}@{spec['version']}":
        raise Refused(MANIFEST, "the subject is not the spec's version")
    if [promotion[k] for k in ("endpoint", "model", "version")] != [
        spec[k] for k in ("endpoint", "model", "version")
    ]:
        raise Refused("promotion.json", "the promotion is of another deployment")
    check_approvals("promotion.json", promotion)
    candidate = check_candidate(members, keys, spec, cp) if with_candidate else ""

    return (
        f"verified: {spec['model']}@{spec['version']} live on {spec['endpoint']}, "
        f"promotion {promotion['promotionId']}, ledger seq {event['seq']} in tree size "
        f"{cp['treeSize']}, signed by {kid}{candidate}"
    )


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(sys.argv[2], encoding="utf-8") as f:
        jwks = json.load(f)
    try:
        print(verify(sys.argv[1], jwks))
    except Refused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 1
    except (tarfile.TarError, ValueError, KeyError, TypeError, UnicodeError) as error:
        print(f"refused: (archive): cannot be read: {error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
