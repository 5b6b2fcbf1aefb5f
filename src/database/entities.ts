import { PolicyDocumentEntity } from '../policy/policy-document.entity.js';

/** Every TypeORM entity, in one list: the data source and the tests both use it. */
export const ENTITIES = [PolicyDocumentEntity];
