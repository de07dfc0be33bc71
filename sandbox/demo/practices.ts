import type { StaffRole } from '../models.js';

export interface DemoPractice {
  key: 'riverside' | 'harbour';
  name: string;
  timeZone: string;
  locale: string;
  /** Whether the demo gives this practice a Stripe account in the emulator. */
  stripeConfigured: boolean;
}

export interface DemoStaffMember {
  practiceKey: DemoPractice['key'];
  email: string;
  displayName: string;
  role: StaffRole;
}

export const demoPractices: DemoPractice[] = [
  { key: 'riverside', name: 'Riverside Medical Centre', timeZone: 'Europe/London', locale: 'en-GB', stripeConfigured: true },
  // Without Stripe, so the demo shows how enabling is refused until Stripe is connected.
  { key: 'harbour', name: 'Harbour Street Surgery', timeZone: 'Pacific/Auckland', locale: 'en-GB', stripeConfigured: false },
];

export const demoStaff: DemoStaffMember[] = [
  { practiceKey: 'riverside', email: 'manager@riverside.example.test', displayName: 'Priya Raman', role: 'practice_manager' },
  { practiceKey: 'riverside', email: 'nurse@riverside.example.test', displayName: 'Tomás Keane', role: 'practice_nurse' },
  { practiceKey: 'riverside', email: 'reception@riverside.example.test', displayName: 'Grace Okafor', role: 'receptionist' },
  { practiceKey: 'harbour', email: 'manager@harbour.example.test', displayName: 'Aroha Ngata', role: 'practice_manager' },
  { practiceKey: 'harbour', email: 'reception@harbour.example.test', displayName: 'Liam Walsh', role: 'receptionist' },
];

/** Every demo sign-in uses this password; the sandbox is for trying the plugin, never for real data. */
export const demoPassword = 'sandbox-demo-2026';
