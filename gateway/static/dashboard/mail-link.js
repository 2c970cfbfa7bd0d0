/**
 * The topbar's "Mail" link: shown only when `refdesk up` runs the local mail catcher
 * (`GET /api/config` gives its page as `mail_url`), where transcripts and ticket
 * replies are caught instead of being delivered. Test id: mail-link.
 */
import { api } from "../static/js/api.js";

/**
 * @param {string} token operator token
 * @param {HTMLAnchorElement} link the hidden topbar link
 */
export async function showMailLink(token, link) {
  try {
    const config = await api("/api/config", { token });
    if (config.mail_url && /^https?:\/\//.test(config.mail_url)) {
      link.href = config.mail_url;
      link.hidden = false;
    }
  } catch { /* no link: the page works without it */ }
}
