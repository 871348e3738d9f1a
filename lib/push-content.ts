// Rich push: the image, deep link and buttons a push template may carry (Template.imageUrl, deepLink,
// actions, actionCategory). Each text is Liquid, rendered with the same variables as the title and body;
// the providers map the result onto their wire formats (activities/providers/apns.ts, fcm.ts, web-push.ts).
import type { PushRichContent } from '../domain';

/**
 * At most this many buttons: Android shows at most three action buttons on a notification, iOS shows up to
 * four (two in the compact banner), Chrome's Notification.maxActions is two. Three is what every platform
 * shows at least in its expanded form.
 */
export const PUSH_ACTION_LIMIT = 3;
/** Longest Liquid source of a URL field or button title. */
export const PUSH_URL_SOURCE_LIMIT = 2_000;
export const PUSH_ACTION_TITLE_LIMIT = 200;
/** Button ids and APNs categories: identifiers the app declares (UNNotificationAction / UNNotificationCategory). */
export const PUSH_IDENTIFIER = /^[A-Za-z0-9_.-]{1,64}$/;

/** One button as a template stores it: `title` and `deepLink` are Liquid. */
export interface PushActionSource {
  id: string;
  title: string;
  deepLink?: string | null;
}

/** The rich fields of a stored push template (any may be null). */
export interface PushRichSource {
  imageUrl?: string | null;
  deepLink?: string | null;
  actions?: PushActionSource[] | null;
  actionCategory?: string | null;
}

// Schemes that would run code or read local data where a link is opened: never a deep link.
const UNSAFE_SCHEMES = new Set(['javascript', 'data', 'file', 'vbscript', 'blob', 'about', 'filesystem']);

/** Why `value` is no image URL (http or https), or null when it is one. */
export function imageUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http or https URL';
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? null : 'must be an http or https URL';
}

/** Why `value` is no deep link (an http(s) URL or an app scheme such as `myshop://orders/1`), or null when it is one. */
export function deepLinkProblem(value: string): string | null {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1]?.toLowerCase();
  if (!scheme) return 'must be an http(s) URL or an app link such as myshop://orders/1';
  if (UNSAFE_SCHEMES.has(scheme)) return `must not use the ${scheme}: scheme`;
  if (scheme === 'http' || scheme === 'https') return imageUrlProblem(value);
  try {
    new URL(value);
  } catch {
    return 'is not a valid URL';
  }
  return /\s/.test(value) ? 'must not contain spaces' : null;
}

/** Reads the `actions` JSON column: what the API stored, or nothing for anything else. */
export function actionsOf(value: unknown): PushActionSource[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((a): PushActionSource[] => {
    if (typeof a !== 'object' || a === null) return [];
    const { id, title, deepLink } = a as Record<string, unknown>;
    if (typeof id !== 'string' || typeof title !== 'string') return [];
    return [{ id, title, ...(typeof deepLink === 'string' && deepLink !== '' ? { deepLink } : {}) }];
  });
}

export function hasRichContent(source: PushRichSource): boolean {
  return !!(source.imageUrl || source.deepLink || source.actionCategory || actionsOf(source.actions).length > 0);
}

/**
 * The rendered rich fields, as the providers take them. A URL that renders empty (a link to an optional
 * variable, `{{ trackingUrl }}` without one) is left out, and so is one that renders to no valid URL (an
 * event's free text): the push still goes, without it. A button whose title renders empty is left out;
 * its link likewise. The category is the template's `actionCategory`: the category (iOS) or intent action
 * (Android) the app declared the buttons under.
 */
export function richContentOf(
  source: PushRichSource,
  rendered: { imageUrl: string; deepLink: string; actions: Array<{ id: string; title: string; deepLink: string }> },
): PushRichContent | null {
  const imageUrl = rendered.imageUrl.trim();
  const deepLink = rendered.deepLink.trim();
  const actions = rendered.actions
    .map((a) => ({ id: a.id, title: a.title.trim(), deepLink: a.deepLink.trim() }))
    .filter((a) => a.title !== '')
    .map((a) => ({ id: a.id, title: a.title, ...(a.deepLink && !deepLinkProblem(a.deepLink) ? { deepLink: a.deepLink } : {}) }));
  const content: PushRichContent = {
    ...(imageUrl && !imageUrlProblem(imageUrl) ? { imageUrl } : {}),
    ...(deepLink && !deepLinkProblem(deepLink) ? { deepLink } : {}),
    ...(actions.length > 0 ? { actions } : {}),
  };
  if (source.actionCategory) content.category = source.actionCategory;
  return Object.keys(content).length > 0 ? content : null;
}
