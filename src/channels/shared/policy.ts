// Connecting a chat platform to the team (Slack install, Teams registration) is an admin's act.
import { hasScope, type AuthContext } from '../../auth/context.js';
import { atLeast } from '../../auth/roles.js';

export const manageChannels = (a: AuthContext) => atLeast(a.role, 'admin') && hasScope(a, 'admin');
