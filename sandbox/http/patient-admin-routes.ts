import { Router, type Request, type Response } from 'express';
import Joi from 'joi';
import type { CsrfSync } from 'csrf-sync';
import type { Logger } from 'pino';
import type { PatientChangeEvent } from '../../plugin/host/contract.js';
import type { HostModels, PatientRow, StaffRow } from '../models.js';
import type { HostRegistry } from '../host-api.js';
import type { Authentication } from './authentication.js';

export const PATIENT_STATUSES = ['active', 'inactive', 'deceased', 'merged'] as const;

const statusLabels: Record<(typeof PATIENT_STATUSES)[number], string> = {
  active: 'Active',
  inactive: 'Inactive',
  deceased: 'Deceased',
  merged: 'Merged into another record',
};

/** Maximum number of patients the list shows. The demo practices have about a dozen each. */
const PATIENT_LIST_LIMIT = 500;

const patientIdPattern = /^[1-9][0-9]{0,9}$/;
const printableText = /^[^\p{Cc}]*$/u;

/** True when `value` is a YYYY-MM-DD date that exists in the calendar. */
function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Today's date as YYYY-MM-DD in the practice's time zone. */
function todayIn(timeZone: string, now: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

function patientFormSchema(today: string) {
  return Joi.object({
    _csrf: Joi.string(),
    givenNames: Joi.string().trim().min(1).max(200).pattern(printableText).required().messages({
      'string.empty': 'Enter at least one given name.',
      'any.required': 'Enter at least one given name.',
      'string.max': 'Given names must be 200 characters or fewer.',
      'string.pattern.base': 'Given names must not contain control characters.',
    }),
    familyName: Joi.string().trim().min(1).max(200).pattern(printableText).required().messages({
      'string.empty': 'Enter the family name.',
      'any.required': 'Enter the family name.',
      'string.max': 'The family name must be 200 characters or fewer.',
      'string.pattern.base': 'The family name must not contain control characters.',
    }),
    birthDate: Joi.string()
      .trim()
      .pattern(/^\d{4}-\d{2}-\d{2}$/)
      .required()
      .custom((value: string, helpers) => {
        if (!isCalendarDate(value)) {
          return helpers.error('date.notInCalendar');
        }
        if (value > today) {
          return helpers.error('date.future');
        }
        return value;
      })
      .messages({
        'string.empty': 'Enter the date of birth as YYYY-MM-DD, for example 1984-03-17.',
        'any.required': 'Enter the date of birth as YYYY-MM-DD, for example 1984-03-17.',
        'string.pattern.base': 'Enter the date of birth as YYYY-MM-DD, for example 1984-03-17.',
        'date.notInCalendar': 'The date of birth is not a real date. Check the day and month.',
        'date.future': 'The date of birth is in the future. Enter a date up to today.',
      }),
    status: Joi.string()
      .valid(...PATIENT_STATUSES)
      .required()
      .messages({
        'any.only': 'Choose a status: active, inactive, deceased or merged.',
        'any.required': 'Choose a status: active, inactive, deceased or merged.',
        'string.empty': 'Choose a status: active, inactive, deceased or merged.',
      }),
  });
}

const noticeTexts: Record<string, string> = {
  saved: 'Patient record saved. Installed plugins were told about the change.',
  unchanged: 'Nothing to save: the record already had these details.',
};

/** Lists the status choices of the form, with the current one selected. */
function statusOptionsFor(current: unknown) {
  return PATIENT_STATUSES.map((status) => ({ value: status, label: statusLabels[status], selected: status === current }));
}

function formValuesOf(patient: PatientRow) {
  return {
    givenNames: (JSON.parse(patient.givenNames) as string[]).join(' '),
    familyName: patient.familyName,
    birthDate: patient.birthDate,
    status: patient.status,
  };
}

/**
 * Builds the sandbox's patient administration, where a practice manager lists the practice's
 * patients and changes a patient's name, date of birth or status. Every change is reported to
 * the plugin through the host's patient change event, as a real platform would.
 */
export function createPatientAdminRoutes(options: {
  models: HostModels;
  registry: HostRegistry;
  authentication: Authentication;
  csrf: CsrfSync;
  clock: { now(): Date };
  logger: Logger;
}): Router {
  const { models, registry, authentication, csrf, clock, logger } = options;
  const router = Router();

  const render = (request: Request, response: Response, view: string, locals: Record<string, unknown>, status = 200) => {
    response.setHeader('Cache-Control', 'no-store');
    response.status(status).render(view, { layout: 'staff', ...locals, csrfToken: csrf.generateToken(request) });
  };

  const renderError = (request: Request, response: Response, status: 403 | 404) => {
    const page =
      status === 403
        ? { title: 'Permission needed', heading: 'Permission needed', message: 'Only a practice manager can change patient records. Ask your practice manager if a record needs changing.' }
        : { title: 'Patient not found', heading: 'Patient not found', message: 'There is no patient with this number at your practice. Go back to the list of patients.' };
    // A staff member without the role cannot open the list either, so their link goes to the dashboard.
    const back = status === 403 ? { backHref: '/admin', backLabel: 'Go to the dashboard' } : { backHref: '/admin/patients', backLabel: 'Back to the list of patients' };
    render(request, response, 'pages/error', { ...page, ...back }, status);
  };

  /** Loads the signed-in staff member, or sends a 403 page and returns null unless they are a practice manager. */
  const managerOf = async (request: Request, response: Response): Promise<StaffRow | null> => {
    const user = request.user as { id: number };
    const staff = await models.Staff.findByPk(user.id);
    if (!staff || staff.role !== 'practice_manager') {
      renderError(request, response, 403);
      return null;
    }
    return staff;
  };

  /** Reads the patient named in the URL, only within the manager's own practice. */
  const patientFromUrl = async (request: Request, staff: StaffRow): Promise<PatientRow | null> => {
    const id = String(request.params.patientId);
    if (!patientIdPattern.test(id)) {
      return null;
    }
    return models.Patient.findOne({ where: { id: Number(id), practiceId: staff.practiceId } });
  };

  router.get('/admin/patients', authentication.requireStaff, async (request, response) => {
    const staff = await managerOf(request, response);
    if (!staff) {
      return;
    }
    const rows = await models.Patient.findAll({
      where: { practiceId: staff.practiceId },
      order: [
        ['familyName', 'ASC'],
        ['id', 'ASC'],
      ],
      limit: PATIENT_LIST_LIMIT,
    });
    const patients = rows.map((row) => ({ ...formValuesOf(row), statusLabel: statusLabels[row.status], id: row.id, href: `/admin/patients/${row.id}` }));
    render(request, response, 'pages/patients', { title: 'Patients', patients, limited: rows.length === PATIENT_LIST_LIMIT, limit: PATIENT_LIST_LIMIT });
  });

  router.get('/admin/patients/:patientId', authentication.requireStaff, async (request, response) => {
    const staff = await managerOf(request, response);
    if (!staff) {
      return;
    }
    const patient = await patientFromUrl(request, staff);
    if (!patient) {
      renderError(request, response, 404);
      return;
    }
    const noticeText = typeof request.query.notice === 'string' ? noticeTexts[request.query.notice] ?? null : null;
    render(request, response, 'pages/patient-edit', { title: `Patient #${patient.id}`, patientId: patient.id, values: formValuesOf(patient), statusOptions: statusOptionsFor(patient.status), noticeText });
  });

  router.post('/admin/patients/:patientId', authentication.requireStaff, async (request, response) => {
    const staff = await managerOf(request, response);
    if (!staff) {
      return;
    }
    const patient = await patientFromUrl(request, staff);
    if (!patient) {
      renderError(request, response, 404);
      return;
    }

    const practice = await models.Practice.findByPk(staff.practiceId);
    const schema = patientFormSchema(todayIn(practice!.timeZone, clock.now()));
    const { error, value } = schema.validate(request.body ?? {}, { abortEarly: false, stripUnknown: true });
    if (error) {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const submitted = Object.fromEntries(['givenNames', 'familyName', 'birthDate', 'status'].map((field) => [field, typeof body[field] === 'string' ? body[field] : '']));
      render(
        request,
        response,
        'pages/patient-edit',
        { title: `Patient #${patient.id}`, patientId: patient.id, values: submitted, statusOptions: statusOptionsFor(submitted.status), errors: error.details.map((detail) => detail.message) },
        400,
      );
      return;
    }

    const givenNames = (value.givenNames as string).split(/\s+/u);
    const changed: PatientChangeEvent['changed'] = [];
    if (JSON.stringify(givenNames) !== patient.givenNames || value.familyName !== patient.familyName) {
      changed.push('name');
    }
    if (value.birthDate !== patient.birthDate) {
      changed.push('birthDate');
    }
    if (value.status !== patient.status) {
      changed.push('status');
    }
    if (changed.length === 0) {
      response.redirect(303, `/admin/patients/${patient.id}?notice=unchanged`);
      return;
    }

    await patient.update({ givenNames: JSON.stringify(givenNames), familyName: value.familyName, birthDate: value.birthDate, status: value.status });
    logger.info({ practiceId: staff.practiceId, patientId: patient.id, staffId: staff.id, changed }, 'patient record changed by staff');

    // Listeners run after the change is saved, one after another. A failing listener is
    // logged and does not undo the change or stop the others.
    const event: PatientChangeEvent = { practiceId: String(staff.practiceId), patientId: String(patient.id), changed };
    for (const listener of registry.patientChangeListeners) {
      try {
        await listener(event);
      } catch (listenerError) {
        logger.error({ err: listenerError, practiceId: staff.practiceId, patientId: patient.id }, 'a patient change listener failed');
      }
    }
    response.redirect(303, `/admin/patients/${patient.id}?notice=saved`);
  });

  return router;
}
