import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { RequestContext } from '../../plugin/host/contract.js';
import type { HostModels, PatientRow, PracticeRow, StaffRow } from '../models.js';
import type { PluginManifest } from '../manifest.js';
import { verifyPassword } from '../passwords.js';
import { rolePermissions, roleNames } from '../roles.js';

/** The signed-in user as stored in the session: a staff member or a portal patient. */
type SessionUser = { kind: 'staff'; id: number } | { kind: 'patient'; id: number };

export interface Authentication {
  passport: InstanceType<typeof Passport>;
  /** Passport's initialisation and session restore, in order. */
  initialize: RequestHandler[];
  /** Loads the signed-in staff member and sets the request context, or sends them to sign in. */
  requireStaff: RequestHandler;
  /** Loads the signed-in portal patient and sets the request context, or sends them to sign in. */
  requirePatient: RequestHandler;
}

// Compared against when the email is unknown, so a wrong email costs as long as a wrong password.
const unknownUserHash = 'scrypt$32768$8$1$c2FuZGJveC11bmtub3du$0Zk1S4b8S1H9a0m1rQmJb0wqOqV0l2Xf3m6v3Yb1x2A=';

function practiceOf(row: PracticeRow) {
  return { id: String(row.id), name: row.name, timeZone: row.timeZone, locale: row.locale };
}

export function createAuthentication(options: {
  models: HostModels;
  contexts: WeakMap<Request, RequestContext>;
  manifest: PluginManifest;
}): Authentication {
  const { models, contexts, manifest } = options;
  const passport = new Passport();
  const declaredPermissions = new Set(manifest.permissions.map((permission) => permission.name));

  const verify = (kind: SessionUser['kind']) =>
    new LocalStrategy({ usernameField: 'email', passwordField: 'password' }, (email, password, done) => {
      const lookup = async () => {
        const normalisedEmail = email.trim().toLowerCase();
        const row: StaffRow | PatientRow | null =
          kind === 'staff'
            ? await models.Staff.findOne({ where: { email: normalisedEmail } })
            : await models.Patient.findOne({ where: { portalLogin: normalisedEmail } });
        const hash = row?.passwordHash ?? unknownUserHash;
        const matches = await verifyPassword(password, hash);
        if (!row || !matches) {
          return false as const;
        }
        return { kind, id: row.id } satisfies SessionUser;
      };
      lookup().then((user) => done(null, user), done);
    });

  passport.use('staff-local', verify('staff'));
  passport.use('patient-local', verify('patient'));
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: SessionUser, done) => done(null, user));

  const requireStaff: RequestHandler = (request: Request, response: Response, next: NextFunction) => {
    const user = request.user as SessionUser | undefined;
    if (user?.kind !== 'staff') {
      response.redirect(303, `/admin/sign-in?next=${encodeURIComponent(request.originalUrl)}`);
      return;
    }
    const load = async () => {
      const staff = await models.Staff.findByPk(user.id);
      const practice = staff ? await models.Practice.findByPk(staff.practiceId) : null;
      if (!staff || !practice) {
        request.logout(() => response.redirect(303, '/admin/sign-in'));
        return;
      }
      const permissions = new Set(rolePermissions[staff.role].filter((permission) => declaredPermissions.has(permission)));
      contexts.set(request, {
        practice: practiceOf(practice),
        staff: { id: String(staff.id), displayName: staff.displayName, permissions },
        patient: null,
        locale: practice.locale,
      });
      response.locals.staffName = staff.displayName;
      response.locals.roleName = roleNames[staff.role];
      response.locals.isManager = staff.role === 'practice_manager';
      response.locals.staffRole = staff.role;
      response.locals.practiceId = practice.id;
      response.locals.practiceName = practice.name;
      next();
    };
    load().catch(next);
  };

  const requirePatient: RequestHandler = (request: Request, response: Response, next: NextFunction) => {
    const user = request.user as SessionUser | undefined;
    if (user?.kind !== 'patient') {
      response.redirect(303, `/portal/sign-in?next=${encodeURIComponent(request.originalUrl)}`);
      return;
    }
    const load = async () => {
      const patient = await models.Patient.findByPk(user.id);
      const practice = patient ? await models.Practice.findByPk(patient.practiceId) : null;
      if (!patient || !practice || !patient.portalLogin) {
        request.logout(() => response.redirect(303, '/portal/sign-in'));
        return;
      }
      contexts.set(request, {
        practice: practiceOf(practice),
        staff: null,
        patient: { id: String(patient.id), portalLogin: patient.portalLogin },
        locale: practice.locale,
      });
      const givenNames = JSON.parse(patient.givenNames) as string[];
      response.locals.patientName = `${givenNames[0] ?? ''} ${patient.familyName}`.trim();
      response.locals.practiceName = practice.name;
      next();
    };
    load().catch(next);
  };

  return { passport, initialize: [passport.initialize(), passport.session()], requireStaff, requirePatient };
}
