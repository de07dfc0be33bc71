/**
 * HTML of the hosted verification page. It works without JavaScript, labels every field and
 * loads its only style sheet from the emulator, so a strict Content-Security-Policy applies.
 */

/** Content of the verification page. Values are plain text, which rendering escapes. */
export interface VerificationPageView {
  sessionId: string;
  clientSecret: string;
  requiresSelfie: boolean;
  /** `last_error` of the previous attempt, shown to explain why the session needs input again. */
  lastError: { code: string; reason: string } | null;
  values: { outcome: string; givenNames: string; familyName: string; dob: string };
  errors: { outcome?: string; givenNames?: string; familyName?: string; dob?: string };
}

interface OutcomeChoice {
  value: string;
  label: string;
  hint: string;
  selfieOnly?: boolean;
}

const OUTCOME_CHOICES: readonly OutcomeChoice[] = [
  {
    value: 'verified',
    label: 'Verified',
    hint: 'The document and every check pass. The session becomes verified with the details below as verified_outputs.',
  },
  {
    value: 'document_expired',
    label: 'Document expired',
    hint: 'The check fails with last_error.code document_expired.',
  },
  {
    value: 'document_unverified_other',
    label: 'Document not verified',
    hint: 'The check fails with last_error.code document_unverified_other.',
  },
  {
    value: 'document_type_not_supported',
    label: 'Document type not allowed',
    hint: 'The check fails with last_error.code document_type_not_supported.',
  },
  {
    value: 'selfie_face_mismatch',
    label: 'Selfie does not match the document photo',
    hint: 'The check fails with last_error.code selfie_face_mismatch.',
    selfieOnly: true,
  },
  {
    value: 'selfie_unverified_other',
    label: 'Selfie not verified',
    hint: 'The check fails with last_error.code selfie_unverified_other.',
    selfieOnly: true,
  },
  {
    value: 'under_supported_age',
    label: 'Document holder under the supported age',
    hint: 'The check fails with last_error.code under_supported_age.',
  },
  {
    value: 'consent_declined',
    label: 'User declines consent',
    hint: 'Nothing is submitted. The session stays in requires_input with last_error.code consent_declined.',
  },
  {
    value: 'device_not_supported',
    label: 'Device has no usable camera',
    hint: 'Nothing is submitted. The session stays in requires_input with last_error.code device_not_supported.',
  },
  {
    value: 'abandoned',
    label: 'User leaves without submitting',
    hint: 'The session stays in requires_input with last_error.code abandoned. No event is sent.',
  },
  {
    value: 'processing',
    label: 'Submit and stay in processing',
    hint: 'The session moves to processing and stays there until a test finishes it.',
  },
];

/** Returns the values that the page offers as outcomes for a session. */
export function offeredOutcomes(requiresSelfie: boolean): string[] {
  return OUTCOME_CHOICES.filter((choice) => requiresSelfie || choice.selfieOnly !== true).map((choice) => choice.value);
}

export function renderVerificationPage(view: VerificationPageView): string {
  const choices = OUTCOME_CHOICES.filter((choice) => view.requiresSelfie || choice.selfieOnly !== true);
  const errorMessages = Object.values(view.errors);

  const body = `
<h1>Identity document check</h1>
<p class="notice"><strong>Sandbox page, not Stripe.</strong> This page stands in for Stripe Identity's
document check in the sandbox. No document or photo is collected: choose the result that the check returns.</p>
<p>Verification session <code>${escapeHtml(view.sessionId)}</code>${
    view.requiresSelfie ? ', with a matching selfie required' : ''
  }.</p>
${renderLastError(view.lastError)}
${
  errorMessages.length > 0
    ? `<div class="error-summary" role="alert"><h2>The form has problems</h2><ul>${errorMessages
        .map((message) => `<li>${escapeHtml(message)}</li>`)
        .join('')}</ul></div>`
    : ''
}
<form method="post" novalidate>
<input type="hidden" name="client_secret" value="${escapeHtml(view.clientSecret)}">
<fieldset${describedBy('outcome', view.errors.outcome)}>
<legend>Result of the check</legend>
${renderFieldError('outcome', view.errors.outcome)}
${choices.map((choice) => renderChoice(choice, view.values.outcome)).join('\n')}
</fieldset>
<fieldset>
<legend>Details read from the document</legend>
<p class="hint" id="details-hint">Used only when the result is Verified. Change them to test a mismatch with the practice's record.</p>
${renderTextField('given_names', 'Given names', 'text', view.values.givenNames, view.errors.givenNames)}
${renderTextField('family_name', 'Family name', 'text', view.values.familyName, view.errors.familyName)}
${renderTextField('dob', 'Date of birth', 'date', view.values.dob, view.errors.dob)}
</fieldset>
<button type="submit">Submit result</button>
</form>`;

  return renderDocument('Identity document check (sandbox)', body);
}

/** Renders a page with a heading and one paragraph, for results and errors. */
export function renderMessagePage(title: string, message: string): string {
  return renderDocument(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

function renderLastError(lastError: VerificationPageView['lastError']): string {
  if (lastError === null) {
    return '';
  }
  return `<p class="last-error">The previous attempt ended with <code>${escapeHtml(lastError.code)}</code>: ${escapeHtml(
    lastError.reason,
  )}</p>`;
}

function renderChoice(choice: OutcomeChoice, selected: string): string {
  const id = `outcome-${choice.value}`;
  const checked = choice.value === selected ? ' checked' : '';
  return `<div class="choice">
<input type="radio" id="${id}" name="outcome" value="${choice.value}" aria-describedby="${id}-hint"${checked}>
<label for="${id}">${escapeHtml(choice.label)}</label>
<p class="hint" id="${id}-hint">${escapeHtml(choice.hint)}</p>
</div>`;
}

function renderTextField(name: string, label: string, type: string, value: string, error: string | undefined): string {
  const invalid = error === undefined ? '' : ' aria-invalid="true"';
  const describedIds = error === undefined ? 'details-hint' : `details-hint ${name}-error`;
  return `<div class="field">
<label for="${name}">${escapeHtml(label)}</label>
${renderFieldError(name, error)}
<input type="${type}" id="${name}" name="${name}" value="${escapeHtml(value)}" autocomplete="off" aria-describedby="${describedIds}"${invalid}>
</div>`;
}

function renderFieldError(name: string, error: string | undefined): string {
  return error === undefined ? '' : `<p class="field-error" id="${name}-error">${escapeHtml(error)}</p>`;
}

function describedBy(name: string, error: string | undefined): string {
  return error === undefined ? '' : ` aria-describedby="${name}-error"`;
}

/**
 * Wraps a body in a complete document. The style sheet link is relative, so the page also
 * works when the emulator is mounted below a path prefix.
 */
function renderDocument(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="assets/hosted-page.css">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export const HOSTED_PAGE_CSS = `body { font-family: system-ui, sans-serif; margin: 0; background: #f6f8fa; color: #1a1f36; }
main { max-width: 40rem; margin: 2rem auto; padding: 1.5rem; background: #fff; border: 1px solid #d5dbe1; border-radius: 8px; }
.notice { padding: 0.75rem; background: #fff4ce; border-left: 4px solid #b58105; }
.last-error, .error-summary, .field-error { color: #a4111d; }
.error-summary { border: 2px solid #a4111d; padding: 0.5rem 1rem; }
fieldset { margin: 1rem 0; border: 1px solid #d5dbe1; }
.choice { margin: 0.5rem 0; }
.hint { margin: 0.1rem 0 0 1.6rem; color: #4f566b; font-size: 0.9rem; }
.field { margin: 0.75rem 0; }
.field label { display: block; font-weight: 600; }
.field input { font: inherit; padding: 0.3rem; width: 100%; max-width: 24rem; }
.field .hint, fieldset > .hint { margin-left: 0; }
[aria-invalid="true"] { border: 2px solid #a4111d; }
button { font: inherit; padding: 0.5rem 1.25rem; }
`;
