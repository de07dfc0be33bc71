import type { StaffRole } from './models.js';

/**
 * The sandbox's mapping of host roles to the plugin's permissions. A real host lets each
 * practice edit this mapping; the sandbox fixes it so tests can rely on it.
 */
export const rolePermissions: Record<StaffRole, readonly string[]> = {
  practice_manager: [
    'clinicalAccess.viewList',
    'clinicalAccess.decide',
    'clinicalAccess.verifyInPerson',
    'clinicalAccess.resetMfa',
    'clinicalAccess.changeSettings',
  ],
  practice_nurse: ['clinicalAccess.viewList', 'clinicalAccess.verifyInPerson'],
  receptionist: ['clinicalAccess.viewList'],
};

export const roleNames: Record<StaffRole, string> = {
  practice_manager: 'Practice manager',
  practice_nurse: 'Practice nurse',
  receptionist: 'Receptionist',
};
