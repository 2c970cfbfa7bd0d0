/**
 * Staff dashboard entry point: sign-in, or resume the session whose token is in
 * sessionStorage; tabs, the "Alert sound" switch and sign-out.
 */
import { Alerts } from "./alerts.js";
import { Session } from "./session.js";
import { SignIn } from "./signin.js";
import { setupTabs } from "./tabs.js";
import { showMailLink } from "./mail-link.js";

const TOKEN_KEY = "refdesk.operator.token";
const $ = (id) => document.getElementById(id);

const alerts = new Alerts($("sound-toggle"));
const app = $("app");
let session = null;

const signIn = new SignIn($("signin"), ({ token, operator }) => {
  sessionStorage.setItem(TOKEN_KEY, token);
  begin(token, operator);
}, () => alerts.unlock());

function begin(token, operator = null) {
  signIn.hide();
  app.hidden = false;
  session = new Session(token, { alerts, onEnd: finish });
  session.start(operator);
  showMailLink(token, $("mail-link"));
}

function finish(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  session = null;
  app.hidden = true;
  signIn.show(message);
}

setupTabs(document.querySelector("[role=tablist]"));
$("sign-out").addEventListener("click", () => session?.signOut());

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) begin(saved);
else signIn.show();
