import Joi from 'joi';
import type { Request, Response } from 'express';
import type { PluginContext } from '../plugin-context.js';
import type { AccessStatus } from '../db/models.js';
import { DECISION_RULES, DECISIONS, isDecision } from '../access/decisions.js';
import { decisionsOpenTo } from './patient-page.js';
import { ACCESS_STATUSES, decodeCursor, encodeCursor, listAccessRequests, MAX_SEARCH_WORDS, parseSearchDate, searchWordsOf, type ListCursor } from './access-list.js';

const listQuerySchema = Joi.object({
  status: Joi.string().valid('all', ...ACCESS_STATUSES).default('all'),
  q: Joi.string().allow('').max(100).pattern(/^[^\p{Cc}]*$/u).default(''),
  order: Joi.string().valid('newest', 'oldest').default('newest'),
  page: Joi.string().max(60),
  notice: Joi.string().max(40),
  noticeRequest: Joi.number().integer().min(1).max(2_147_483_647),
});

/** Builds a list address that keeps the current filter, search and order. */
export function listHref(basePath: string, parameters: { status: string; q: string; order: string; cursor?: ListCursor | null }): string {
  const search = new URLSearchParams();
  if (parameters.status !== 'all') {
    search.set('status', parameters.status);
  }
  if (parameters.q !== '') {
    search.set('q', parameters.q);
  }
  if (parameters.order !== 'newest') {
    search.set('order', parameters.order);
  }
  if (parameters.cursor) {
    search.set('page', encodeCursor(parameters.cursor));
  }
  const query = search.toString();
  return `${basePath}/access${query ? `?${query}` : ''}`;
}

/** GET /access: every patient with a request, filtered, searched and paged. */
export async function showAccessList(plugin: PluginContext, request: Request, response: Response): Promise<void> {
  const context = plugin.host.requestContext(request);
  const t = plugin.translator.forLocale(context.locale);

  // A tab or line break pasted into the search box separates words, as a space does.
  const query = typeof request.query.q === 'string' ? { ...request.query, q: request.query.q.replace(/[\t\r\n]/g, ' ') } : request.query;
  const { error, value } = listQuerySchema.validate(query);
  const rejectQuery = (message: string) => {
    const bodyHtml = plugin.templates.render('staff/error', {
      t,
      csrfToken: plugin.host.sessions.csrfToken(request),
      message,
      backHref: `${request.baseUrl}/access`,
    });
    plugin.host.views.render(request, response, { surface: 'staff', status: 400, title: t('clinicalAccess.staffList.title'), bodyHtml });
  };
  if (error || (value.page !== undefined && decodeCursor(value.page) === null)) {
    rejectQuery(t('clinicalAccess.staffList.errors.invalidQuery'));
    return;
  }
  const search = value.q.trim();
  if (search !== '' && parseSearchDate(search) === null) {
    const words = searchWordsOf(search);
    if (words.length === 0) {
      rejectQuery(t('clinicalAccess.staffList.errors.noSearchWords'));
      return;
    }
    if (words.length > MAX_SEARCH_WORDS) {
      rejectQuery(t('clinicalAccess.staffList.errors.tooManyWords', { count: MAX_SEARCH_WORDS }));
      return;
    }
  }

  // A notice in the address is shown only while the request it names has the status the
  // decision gives. Checking it is the only time the list runs a third query.
  // NOTE: a link to a request that already has that status still shows the notice, as on the
  // patient's page. Only a one-time value kept in the session would prove a decision just made.
  const notice: unknown = value.notice;
  const noticeStatus = isDecision(notice) ? DECISION_RULES[notice].to : null;
  const [page, noticeRequest] = await Promise.all([
    listAccessRequests(
      { sequelize: plugin.host.database.sequelize, models: plugin.models },
      {
        practiceId: context.practice.id,
        status: value.status as AccessStatus | 'all',
        search: value.q,
        order: value.order,
        cursor: value.page ? decodeCursor(value.page) : null,
      },
    ),
    noticeStatus && value.noticeRequest !== undefined
      ? plugin.models.AccessRequest.findOne({ attributes: ['status'], where: { id: value.noticeRequest, practiceId: context.practice.id }, raw: true })
      : null,
  ]);

  const basePath = request.baseUrl;
  // A reason the catalogue lacks is shown as stored, because i18next returns the key for it. The
  // key is compared here, not passed as defaultValue, so the translator can keep the text.
  const reasonLabelOf = (reason: string): string => {
    const key = `clinicalAccess.statusReasons.${reason}`;
    const text = t(key);
    return text === key ? reason : text;
  };
  const statusLabels = Object.fromEntries(ACCESS_STATUSES.map((status) => [status, t(`clinicalAccess.statuses.${status}`)])) as Record<AccessStatus, string>;
  // Each row offers the decisions its status allows, in the order the patient's page shows
  // them. Every button submits the page's one form and names its decision, its request and the
  // version the row showed, as rowDecision=approve:52670:3. The decisions depend only on the
  // status and whether the identity is verified, so each pair is worked out once a page.
  const decisionLabels = DECISIONS.map((decision) => ({ decision, label: t(`clinicalAccess.decisions.${decision}`) }));
  const buttonsByKind = new Map<string, typeof decisionLabels>();
  const decisionButtonsOf = (row: Parameters<typeof decisionsOpenTo>[1]) => {
    const kind = `${row.status}:${row.identityVerified}`;
    let buttons = buttonsByKind.get(kind);
    if (!buttons) {
      const open = decisionsOpenTo(context.staff!.permissions, row);
      buttons = decisionLabels.filter(({ decision }) => open[decision]);
      buttonsByKind.set(kind, buttons);
    }
    return buttons;
  };
  const dateTime = new Intl.DateTimeFormat(context.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: context.practice.timeZone });
  const bodyHtml = plugin.templates.render('staff/access-list', {
    t,
    csrfToken: plugin.host.sessions.csrfToken(request),
    basePath,
    search: value.q,
    order: value.order,
    status: value.status,
    notice: noticeStatus !== null && noticeRequest?.status === noticeStatus ? value.notice : null,
    filters: (['all', ...ACCESS_STATUSES] as const).map((status) => ({
      status,
      count: page.counts[status],
      current: status === value.status,
      href: listHref(basePath, { status, q: value.q, order: value.order }),
    })),
    canDecide: context.staff!.permissions.has('clinicalAccess.decide'),
    rows: page.rows.map((row) => ({
      id: row.id,
      version: row.version,
      decisions: decisionButtonsOf(row),
      name: row.displayName,
      birthDate: row.birthDate,
      status: row.status,
      statusLabel: statusLabels[row.status],
      statusReason: row.statusReason === null ? null : reasonLabelOf(row.statusReason),
      detailsChanged: row.detailsChangedInHost,
      lastChanged: dateTime.format(row.lastChangedAt),
      href: `${basePath}/access/${row.id}`,
    })),
    nextHref: page.next ? listHref(basePath, { status: value.status, q: value.q, order: value.order, cursor: page.next }) : null,
    previousHref: page.previous ? listHref(basePath, { status: value.status, q: value.q, order: value.order, cursor: page.previous }) : null,
    firstHref: value.page ? listHref(basePath, { status: value.status, q: value.q, order: value.order }) : null,
  });
  plugin.host.views.render(request, response, { surface: 'staff', title: t('clinicalAccess.staffList.title'), bodyHtml });
}
