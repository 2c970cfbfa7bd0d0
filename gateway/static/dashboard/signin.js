/**
 * The sign-in form: POST /api/auth/login, errors shown inline.
 * Test ids: login-username, login-password, login-submit, login-error.
 */
import { api } from "../static/js/api.js";

export class SignIn {
  /**
   * @param {HTMLElement} section the sign-in screen
   * @param {(result: {token: string, operator: Object}) => void} onSignedIn
   * @param {() => void} gesture called on submit (a user gesture: unlock sound, ask for notifications)
   */
  constructor(section, onSignedIn, gesture) {
    this.section = section;
    this.form = section.querySelector("form");
    this.username = this.form.elements.username;
    this.password = this.form.elements.password;
    this.error = section.querySelector("[data-testid=login-error]");
    this.info = section.querySelector("[data-testid=login-info]");
    this.submit = this.form.querySelector("[type=submit]");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      gesture();
      this.#signIn(onSignedIn);
    });
  }

  /** Show the form (optionally with a message, e.g. "You have signed out."). */
  show(message = "") {
    this.section.hidden = false;
    this.password.value = "";
    this.#message("");
    this.info.textContent = message;
    this.info.hidden = !message;
    (this.username.value ? this.password : this.username).focus();
  }

  hide() {
    this.section.hidden = true;
  }

  #message(text) {
    if (text) this.info.hidden = true;
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  async #signIn(onSignedIn) {
    const username = this.username.value.trim();
    const password = this.password.value;
    this.username.toggleAttribute("aria-invalid", !username);
    this.password.toggleAttribute("aria-invalid", !password);
    if (!username || !password) {
      this.#message("Please enter your username and password.");
      (username ? this.password : this.username).focus();
      return;
    }
    this.submit.disabled = true;
    this.submit.textContent = "Signing in…";
    try {
      const result = await api("/api/auth/login", { method: "POST", body: { username, password } });
      this.#message("");
      onSignedIn(result);
    } catch (error) {
      this.#message(error.status === 401 ? "Wrong username or password." : error.message);
      this.password.select();
      this.password.focus();
    } finally {
      this.submit.disabled = false;
      this.submit.textContent = "Sign in";
    }
  }
}
