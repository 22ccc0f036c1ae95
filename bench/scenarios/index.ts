import type { Scenario } from '../lib/scenario.js';
import { baseline } from './baseline.js';
import { createKey } from './create-key.js';
import { details } from './details.js';
import { enrol } from './enrol.js';
import { verifyInvalid } from './invalid.js';
import { listKeys } from './list-keys.js';
import { verifyMetrics } from './metrics.js';
import { peerVerify } from './peer.js';
import { replicaRevocation, revocationPropagation } from './revocation.js';
import { verifyAccessKeyCached, verifyAccessKeyFilter } from './verify-access-key.js';
import { verifyCached, verifyCold } from './verify-api-key.js';
import { verifyBatch } from './verify-batch.js';
import { verifyClusterKeyCached, verifyClusterKeyCold } from './verify-cluster-key.js';

/**
 * Every scenario, in the order a run measures them: create_key before verify_cold (its keys are
 * the cold set), the cached paths before the seeding of list_keys, the primary's scenarios before
 * those that restart Latchkey on the same store (the embedded store allows one process at a time).
 */
export const SCENARIOS: readonly Scenario[] = [
  baseline,
  createKey,
  verifyCached,
  verifyBatch,
  verifyAccessKeyCached,
  verifyAccessKeyFilter,
  verifyCold,
  verifyClusterKeyCached,
  verifyClusterKeyCold,
  listKeys,
  enrol,
  details,
  revocationPropagation,
  replicaRevocation,
  peerVerify,
  verifyInvalid,
  verifyMetrics,
];
