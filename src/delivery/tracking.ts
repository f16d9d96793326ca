/**
 * Engagement tracking links: the open pixel, click redirects and one-click unsubscribe of e-mail.
 *
 * Every link carries a token: the message id and an HMAC-SHA256 over the purpose, the message id
 * and (for clicks) the target URL, keyed by the installation's tracking secret. So a link cannot be
 * forged for another message, and the click redirect cannot be turned into an open redirect to an
 * address that was never in the message.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import type { OutgoingMessage } from './provider.js';

/** What a tracking link is for. */
export type TrackingPurpose = 'open' | 'click' | 'unsubscribe';

/** Signs and checks tracking links; decorates outgoing e-mail with them. */
export class TrackingLinks {
  readonly #secret: string;
  readonly #base: string;

  /**
   * @param baseUrl the public address of the Waymark API (`server.public_url`), no trailing slash
   * @param secret at least 16 characters; keep it stable, or links already sent stop working
   */
  constructor(baseUrl: string, secret: string) {
    if (secret.length < 16) throw new Error('the tracking secret must be at least 16 characters');
    this.#base = baseUrl.replace(/\/+$/u, '');
    this.#secret = secret;
  }

  /** The token of a link. */
  token(purpose: TrackingPurpose, messageId: string, url = ''): string {
    const id = Buffer.from(messageId, 'utf8').toString('base64url');
    return `${id}.${this.#mac(purpose, messageId, url)}`;
  }

  /** The message id a token names, or null when it is not a valid token for this purpose. */
  verify(purpose: TrackingPurpose, token: string, url = ''): string | null {
    const [id, mac, extra] = token.split('.');
    if (id === undefined || mac === undefined || extra !== undefined) return null;
    const messageId = Buffer.from(id, 'base64url').toString('utf8');
    const expected = Buffer.from(this.#mac(purpose, messageId, url));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return messageId;
  }

  /** The open pixel's address. */
  openUrl(messageId: string): string {
    return `${this.#base}/v1/t/open/${this.token('open', messageId)}`;
  }

  /** The click redirect for `url`. */
  clickUrl(messageId: string, url: string): string {
    const token = this.token('click', messageId, url);
    return `${this.#base}/v1/t/click/${token}?url=${encodeURIComponent(url)}`;
  }

  /** The one-click unsubscribe address (RFC 8058). */
  unsubscribeUrl(messageId: string): string {
    return `${this.#base}/v1/t/unsubscribe/${this.token('unsubscribe', messageId)}`;
  }

  /**
   * An e-mail with tracking: `http(s)` links in the HTML go through the click redirect, a 1×1 open
   * pixel closes the body, and `List-Unsubscribe` with `List-Unsubscribe-Post` lets mail clients
   * offer one-click unsubscribe. Plain-text bodies are left alone (rewritten links in text read as
   * noise and are often flagged as spam).
   */
  decorate(message: OutgoingMessage): OutgoingMessage {
    const unsubscribe = this.unsubscribeUrl(message.id);
    const headers = {
      ...message.headers,
      'List-Unsubscribe': `<${unsubscribe}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    };
    if (message.html === undefined) return { ...message, headers };
    const linked = message.html.replace(
      /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/giu,
      (_match, head: string, quote: string, url: string) =>
        `${head}${quote}${escapeAttribute(this.clickUrl(message.id, unescapeAttribute(url)))}${quote}`,
    );
    const pixel = `<img src="${escapeAttribute(this.openUrl(message.id))}" width="1" height="1" alt="" style="display:none">`;
    const html = /<\/body>/iu.test(linked)
      ? linked.replace(/<\/body>/iu, `${pixel}</body>`)
      : `${linked}${pixel}`;
    return { ...message, html, headers };
  }

  #mac(purpose: TrackingPurpose, messageId: string, url: string): string {
    return createHmac('sha256', this.#secret)
      .update(`${purpose}\n${messageId}\n${url}`)
      .digest('base64url')
      .slice(0, 22);
  }
}

function escapeAttribute(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/"/gu, '&quot;').replace(/'/gu, '&#39;');
}

function unescapeAttribute(text: string): string {
  return text.replace(/&amp;/gu, '&');
}
