import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TensorSpec } from '../artifacts/artifact.entity.js';
import type { TrafficMode } from '../endpoints/endpoint.entity.js';
import { servedSignature, type EndpointState, type ServedVersion } from './endpoint-state.js';

interface Row {
  name: string;
  model: string;
  revision: string;
  mode: TrafficMode;
  candidate_weight: number;
  shadow_sample: number;
  live_version: number | null;
  live_sha256: string | null;
  live_input_name: string | null;
  live_features: string[] | null;
  live_inputs: TensorSpec[] | null;
  live_outputs: TensorSpec[] | null;
  candidate_version: number | null;
  candidate_sha256: string | null;
  candidate_input_name: string | null;
  candidate_features: string[] | null;
  candidate_inputs: TensorSpec[] | null;
  candidate_outputs: TensorSpec[] | null;
}

const SELECT_STATE = `
  SELECT e.name, m.name AS model, e.revision, e.mode, e.candidate_weight, e.shadow_sample,
         lv.version AS live_version, lv.artifact_sha256 AS live_sha256,
         lv.input_name AS live_input_name, lv.feature_columns AS live_features,
         la.inputs AS live_inputs, la.outputs AS live_outputs,
         cv.version AS candidate_version, cv.artifact_sha256 AS candidate_sha256,
         cv.input_name AS candidate_input_name, cv.feature_columns AS candidate_features,
         ca.inputs AS candidate_inputs, ca.outputs AS candidate_outputs
  FROM endpoints e
  JOIN models m ON m.id = e.model_id
  LEFT JOIN model_versions lv ON lv.model_id = e.model_id AND lv.version = e.live_version
  LEFT JOIN artifacts la ON la.sha256 = lv.artifact_sha256
  LEFT JOIN model_versions cv ON cv.model_id = e.model_id AND cv.version = e.candidate_version
  LEFT JOIN artifacts ca ON ca.sha256 = cv.artifact_sha256`;

/** Reads endpoints' traffic state with the versions and signatures they serve. */
@Injectable()
export class EndpointStateRepository {
  constructor(private readonly dataSource: DataSource) {}

  async all(): Promise<EndpointState[]> {
    const rows = await this.dataSource.query<Row[]>(SELECT_STATE);
    return rows.map(stateOf);
  }

  async byName(name: string): Promise<EndpointState | undefined> {
    const rows = await this.dataSource.query<Row[]>(`${SELECT_STATE} WHERE e.name = $1`, [name]);
    return rows[0] && stateOf(rows[0]);
  }
}

function stateOf(row: Row): EndpointState {
  const live = versionOf(
    row.live_version,
    row.live_sha256,
    row.live_input_name,
    row.live_features,
    row.live_inputs,
    row.live_outputs,
  );
  const candidate = versionOf(
    row.candidate_version,
    row.candidate_sha256,
    row.candidate_input_name,
    row.candidate_features,
    row.candidate_inputs,
    row.candidate_outputs,
  );
  return {
    name: row.name,
    model: row.model,
    revision: Number(row.revision),
    mode: row.mode,
    candidateWeight: row.candidate_weight,
    shadowSample: row.shadow_sample,
    live,
    candidate,
    split: {
      mode: row.mode,
      candidateWeight: row.candidate_weight,
      shadowSample: row.shadow_sample,
      hasCandidate: candidate !== null,
    },
  };
}

function versionOf(
  version: number | null,
  sha256: string | null,
  inputName: string | null,
  features: string[] | null,
  inputs: TensorSpec[] | null,
  outputs: TensorSpec[] | null,
): ServedVersion | null {
  if (version === null || sha256 === null || inputs === null || outputs === null) return null;
  return {
    version,
    artifactSha256: sha256.trim(),
    signature: servedSignature(inputs, outputs, inputName ?? '', features?.length ?? 0),
  };
}
