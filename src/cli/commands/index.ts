import type { Command } from 'commander';
import type { Cli } from '../runtime.js';
import { registerAccessKeyCommands } from './access-key.js';
import { registerApiKeyCommands } from './api-key.js';
import { registerAuditCommands } from './audit.js';
import { registerClientCommands } from './client.js';
import { registerClusterKeyCommands } from './cluster-key.js';
import { registerEnvironmentCommands } from './environment.js';
import { registerLoginCommands } from './login.js';
import { registerOrgCommands } from './org.js';
import { registerResourceCommands } from './resource.js';
import { registerRoleBindingCommands } from './role-binding.js';
import { registerServiceAccountCommands } from './service-account.js';
import { registerUserCommands } from './user.js';
import { registerVerifyCommands } from './verify.js';

/**
 * The command groups, in the order `latchkey --help` lists them. A new credential family adds one
 * file in this directory (modelled on api-key.ts) and one line here.
 */
export const commandGroups: ((program: Command, cli: Cli) => void)[] = [
  registerLoginCommands,
  registerOrgCommands,
  registerEnvironmentCommands,
  registerResourceCommands,
  registerServiceAccountCommands,
  registerUserCommands,
  registerRoleBindingCommands,
  registerApiKeyCommands,
  registerClusterKeyCommands,
  registerAccessKeyCommands,
  registerClientCommands,
  registerAuditCommands,
  registerVerifyCommands,
];
