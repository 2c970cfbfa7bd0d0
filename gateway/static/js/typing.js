/** Typing signals: what we send (throttled) and what we show (self-expiring). */

const RESEND_MS = 3000; // re-send "typing" at most this often while typing
const IDLE_MS = 4000; // no keystroke for this long → "stopped typing"
const SHOW_MS = 8000; // hide the indicator when no signal arrives for this long

/**
 * Turns keystrokes into `chat.typing` signals: `true` at once and every 3 s while
 * keys keep coming, `false` after 4 s without a keystroke or when `stop()` is called.
 */
export class TypingSignaller {
  /** @param {(typing: boolean) => void} signal sends the frame */
  constructor(signal) {
    this.signal = signal;
    this.lastSent = 0;
    this.idleTimer = null;
    this.active = false;
  }

  /** Call on every input event; `empty` when the box is now empty. */
  input(empty) {
    if (empty) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (!this.active || now - this.lastSent > RESEND_MS) {
      this.signal(true);
      this.lastSent = now;
      this.active = true;
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), IDLE_MS);
  }

  /** Send "stopped typing" if we said we were typing. */
  stop() {
    clearTimeout(this.idleTimer);
    if (this.active) this.signal(false);
    this.active = false;
  }
}

/**
 * Shows "⟨name⟩ is typing…" in an element (kept `hidden` otherwise); hides itself
 * when no fresh signal comes for 8 s, in case a lossy "stopped" signal was lost.
 */
export class TypingIndicator {
  /** @param {HTMLElement} element the indicator (data-testid="typing") */
  constructor(element) {
    this.element = element;
    this.timer = null;
    this.element.hidden = true;
  }

  /** Apply a `typing` frame. */
  show(name, typing) {
    clearTimeout(this.timer);
    if (!typing) {
      this.hide();
      return;
    }
    this.element.textContent = `${name || "Someone"} is typing…`;
    this.element.hidden = false;
    this.timer = setTimeout(() => this.hide(), SHOW_MS);
  }

  hide() {
    clearTimeout(this.timer);
    this.element.hidden = true;
    this.element.textContent = "";
  }
}
