/**
 * New-chat alerts: a short chime (Web Audio oscillators, no audio files) when a
 * queued chat appears, repeated every 5 s while any chat in the list is unclaimed,
 * plus a desktop notification where permission was granted.
 *
 * `document.body.dataset.alerts` counts the chimes played so far (tests read it).
 * Alerts ring only while the operator is Online; the "Alert sound" switch is remembered.
 * Internal Chat messages have their own, different sound (`internalChime()`).
 */

const REPEAT_MS = 5000;
const SOUND_KEY = "refdesk.sound";
const NOTES_HZ = [659.25, 987.77]; // E5 then B5: soft, clearly audible
const NOTE_SECONDS = 0.22;

export class Alerts {
  /**
   * @param {HTMLButtonElement} toggle the "Alert sound" switch (role=switch, aria-checked;
   *   an optional `.switch__state` child shows "On"/"Off")
   */
  constructor(toggle) {
    this.toggle = toggle;
    this.soundOn = localStorage.getItem(SOUND_KEY) !== "off";
    this.known = new Set();
    this.timer = null;
    this.audio = null;
    this.count = Number(document.body.dataset.alerts) || 0;
    this.onToggle = () => this.setSound(!this.soundOn);
    toggle.addEventListener("click", this.onToggle);
    this.#renderToggle();
  }

  /**
   * Call from a user gesture (sign-in, going Online): lets audio play and asks once
   * for permission to show desktop notifications.
   */
  unlock() {
    try {
      this.audio ??= new AudioContext();
      if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
    } catch {
      this.audio = null;
    }
    if ("Notification" in window && Notification.permission === "default") {
      Notification.requestPermission().catch(() => {});
    }
  }

  /**
   * Update with the current queued chats.
   * @param {Object[]} queued ChatViews waiting in my departments
   * @param {boolean} online whether the operator is Online
   */
  update(queued, online) {
    const fresh = queued.filter((chat) => !this.known.has(chat.id));
    this.known = new Set(queued.map((chat) => chat.id));
    if (!online || queued.length === 0) {
      this.#stopRepeating();
      return;
    }
    // Ring now for a new chat, or when chats are already waiting as I go Online.
    if (fresh.length || this.timer === null) {
      this.chime();
      fresh.slice(0, 3).forEach((chat) => this.#notify(chat));
      this.#stopRepeating(); // restart the 5 s rhythm from this chime
      this.timer = setInterval(() => this.chime(), REPEAT_MS);
    }
  }

  /** Play the chime once (when sound is on) and count it. */
  chime() {
    if (!this.soundOn) return;
    this.count += 1;
    document.body.dataset.alerts = String(this.count);
    try {
      this.audio ??= new AudioContext();
      playChime(this.audio);
    } catch {
      // No audio available (e.g. blocked); the count and the visual list still show it.
    }
  }

  /**
   * Internal Chat's alert, once, when sound is on: a colleague's message in a room I
   * am not looking at. A different timbre and rhythm from the patron chime (two quick
   * low "knocks" on a triangle wave) so the two can be told apart without looking.
   * `document.body.dataset.internalAlerts` counts them (tests read it).
   */
  internalChime() {
    if (!this.soundOn) return;
    const played = (Number(document.body.dataset.internalAlerts) || 0) + 1;
    document.body.dataset.internalAlerts = String(played);
    try {
      this.audio ??= new AudioContext();
      playKnock(this.audio);
    } catch {
      // No audio available; the unread badges still show it.
    }
  }

  setSound(on) {
    this.soundOn = on;
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
    this.#renderToggle();
    if (on) this.unlock();
  }

  /** Stop ringing and release the audio context. */
  destroy() {
    this.#stopRepeating();
    this.toggle.removeEventListener("click", this.onToggle);
    this.audio?.close().catch(() => {});
    this.audio = null;
  }

  #stopRepeating() {
    clearInterval(this.timer);
    this.timer = null;
  }

  #renderToggle() {
    this.toggle.setAttribute("aria-checked", String(this.soundOn));
    const state = this.toggle.querySelector(".switch__state");
    if (state) state.textContent = this.soundOn ? "On" : "Off";
  }

  #notify(chat) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      const note = new Notification(`New chat · ${chat.department_name}`, {
        body: `${chat.patron_name}: ${chat.question}`.slice(0, 180),
        tag: `refdesk-${chat.id}`,
      });
      note.addEventListener("click", () => {
        window.focus();
        note.close();
      });
    } catch {
      // Some browsers only allow notifications from a service worker.
    }
  }
}

/**
 * One note: a `type` oscillator at `frequency` Hz starting at `at` (seconds, on the
 * context's clock), rising to gain `peak` in `attack` seconds and fading out by
 * `at + seconds`.
 */
function playNote(context, { type, frequency, at, seconds, peak, attack }) {
  const oscillator = new OscillatorNode(context, { type, frequency });
  const gain = new GainNode(context, { gain: 0.0001 });
  gain.gain.setValueAtTime(0.0001, at);
  gain.gain.exponentialRampToValueAtTime(peak, at + attack);
  gain.gain.exponentialRampToValueAtTime(0.0001, at + seconds);
  oscillator.connect(gain).connect(context.destination);
  oscillator.start(at);
  oscillator.stop(at + seconds + 0.02);
}

/** Two short sine notes with a gentle attack and decay. */
function playChime(context) {
  const start = context.currentTime + 0.01;
  NOTES_HZ.forEach((frequency, index) => {
    const at = start + index * NOTE_SECONDS;
    playNote(context, { type: "sine", frequency, at, seconds: NOTE_SECONDS, peak: 0.2, attack: 0.02 });
  });
}

const KNOCK_HZ = 392; // G4, below the patron chime's E5–B5
const KNOCK_SECONDS = 0.09;
const KNOCK_GAP_SECONDS = 0.14;

/** Two short, low triangle-wave knocks (Internal Chat). */
function playKnock(context) {
  const start = context.currentTime + 0.01;
  for (let index = 0; index < 2; index += 1) {
    const at = start + index * KNOCK_GAP_SECONDS;
    playNote(context, { type: "triangle", frequency: KNOCK_HZ, at, seconds: KNOCK_SECONDS, peak: 0.25, attack: 0.01 });
  }
}
