import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TensorSpec } from '../runtime/tensor-spec.js';
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
  live_score_output: string | null;
  live_score_index: number | null;
  live_threshold: number | null;
  candidate_version: number | null;
  candidate_sha256: string | null;
  candidate_input_name: string | null;
  candidate_features: string[] | null;
  candidate_inputs: TensorSpec[] | null;
  candidate_outputs: TensorSpec[] | null;
  candidate_score_output: string | null;
  candidate_score_index: number | null;
  candidate_threshold: number | null;
  standby_version: number | null;
  standby_sha256: string | null;
  standby_input_name: string | null;
  standby_features: string[] | null;
  standby_inputs: TensorSpec[] | null;
  standby_outputs: TensorSpec[] | null;
  standby_score_output: string | null;
  standby_score_index: number | null;
  standby_threshold: number | null;
}

const SELECT_STATE = `
  SELECT e.name, m.name AS model, e.revision, e.mode, e.candidate_weight, e.shadow_sample,
         lv.version AS live_version, lv.artifact_sha256 AS live_sha256,
         lv.input_name AS live_input_name, lv.feature_columns AS live_features,
         la.inputs AS live_inputs, la.outputs AS live_outputs,
         lv.score_output AS live_score_output, lv.score_index AS live_score_index,
         lv.threshold AS live_threshold,
         cv.version AS candidate_version, cv.artifact_sha256 AS candidate_sha256,
         cv.input_name AS candidate_input_name, cv.feature_columns AS candidate_features,
         ca.inputs AS candidate_inputs, ca.outputs AS candidate_outputs,
         cv.score_output AS candidate_score_output, cv.score_index AS candidate_score_index,
         cv.threshold AS candidate_threshold,
         sv.version AS standby_version, sv.artifact_sha256 AS standby_sha256,
         sv.input_name AS standby_input_name, sv.feature_columns AS standby_features,
         sa.inputs AS standby_inputs, sa.outputs AS standby_outputs,
         sv.score_output AS standby_score_output, sv.score_index AS standby_score_index,
         sv.threshold AS standby_threshold
  FROM endpoints e
  JOIN models m ON m.id = e.model_id
  LEFT JOIN model_versions lv ON lv.model_id = e.model_id AND lv.version = e.live_version
  LEFT JOIN artifacts la ON la.sha256 = lv.artifact_sha256
  LEFT JOIN model_versions cv ON cv.model_id = e.model_id AND cv.version = e.candidate_version
  LEFT JOIN artifacts ca ON ca.sha256 = cv.artifact_sha256
  LEFT JOIN model_versions sv ON sv.model_id = e.model_id AND sv.version = e.standby_version
  LEFT JOIN artifacts sa ON sa.sha256 = sv.artifact_sha256`;

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

type Arm = 'live' | 'candidate' | 'standby';

function stateOf(row: Row): EndpointState {
  const live = versionOf(row, 'live');
  const candidate = versionOf(row, 'candidate');
  return {
    name: row.name,
    model: row.model,
    revision: Number(row.revision),
    mode: row.mode,
    candidateWeight: row.candidate_weight,
    shadowSample: row.shadow_sample,
    live,
    candidate,
    standby: versionOf(row, 'standby'),
    split: {
      mode: row.mode,
      candidateWeight: row.candidate_weight,
      shadowSample: row.shadow_sample,
      hasCandidate: candidate !== null,
    },
  };
}

function versionOf(row: Row, arm: Arm): ServedVersion | null {
  const version = row[`${arm}_version`];
  const sha256 = row[`${arm}_sha256`];
  const inputs = row[`${arm}_inputs`];
  const outputs = row[`${arm}_outputs`];
  if (version === null || sha256 === null || inputs === null || outputs === null) return null;
  const inputName = row[`${arm}_input_name`] ?? '';
  const featureColumns = row[`${arm}_features`] ?? [];
  return {
    version,
    artifactSha256: sha256.trim(),
    signature: servedSignature(inputs, outputs, inputName, featureColumns.length),
    inputName,
    featureColumns,
    scoreOutput: row[`${arm}_score_output`] ?? '',
    scoreIndex: row[`${arm}_score_index`] ?? 0,
    threshold: row[`${arm}_threshold`],
  };
}
