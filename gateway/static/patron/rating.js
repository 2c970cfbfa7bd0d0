/**
 * "How was this chat?" — offered once the chat has ended (`chat.rate`): five stars as
 * a radio group (arrow keys move, each star named "1 star: Poor" … "5 stars:
 * Excellent"), an optional comment (at most 1000 characters) and Send; then "Thank
 * you for your feedback." A chat already rated (after a reload) shows the thanks.
 * Rating again replaces the earlier rating (the queue service's rule), but this
 * widget offers it once.
 *
 * Test ids: rating, rating-star (data-value), rating-comment, rating-send,
 * rating-error, rating-thanks.
 */
import { h, uid } from "../static/js/dom.js";

const WORDS = ["Poor", "Fair", "Good", "Very good", "Excellent"];
export const MAX_COMMENT = 1000;

export class Rating {
  /**
   * @param {HTMLElement} slot where the rating goes (inside the "chat ended" box)
   * @param {{request: (frame: Object) => Promise<Object>}} socket
   * @param {string} chatId
   */
  constructor(slot, socket, chatId) {
    this.slot = slot;
    this.socket = socket;
    this.chatId = chatId;
    this.shown = false;
  }

  /** Offer the rating, or the thanks when `chat.rating` is already set. */
  show(chat) {
    if (this.shown) return;
    this.shown = true;
    this.slot.hidden = false;
    if (chat?.rating) this.#thanks();
    else this.slot.replaceChildren(this.#form());
  }

  hide() {
    this.shown = false;
    this.slot.hidden = true;
    this.slot.replaceChildren();
  }

  #form() {
    const titleId = uid("rating-title");
    const name = uid("stars");
    const stars = WORDS.map((word, index) => {
      const value = index + 1;
      const id = `${name}-${value}`;
      const input = h("input", { id, type: "radio", name, value, class: "p-star__input", "data-testid": "rating-star",
        dataset: { value } });
      const label = h("label", { for: id, class: "p-star", title: word },
        h("span", { class: "p-star__icon", "aria-hidden": "true", text: "★" }),
        h("span", { class: "visually-hidden", text: `${value} star${value > 1 ? "s" : ""}: ${word}` }));
      return [input, label];
    });
    const commentId = uid("rating-comment");
    const comment = h("textarea", { id: commentId, rows: 2, maxlength: MAX_COMMENT, "data-testid": "rating-comment" });
    const error = h("p", { class: "form-error", role: "alert", "data-testid": "rating-error", hidden: true });
    const chosen = h("p", { class: "p-rating__chosen", "aria-hidden": "true" });
    const send = h("button", { type: "submit", class: "btn btn--primary", "data-testid": "rating-send", text: "Send" });
    const form = h("form", { class: "p-rating", "aria-labelledby": titleId, "data-testid": "rating", novalidate: true },
      h("fieldset", { class: "p-rating__stars" },
        h("legend", { id: titleId, class: "p-rating__title", text: "How was this chat?" }),
        h("div", { class: "p-stars" }, stars.flat()), chosen),
      h("div", { class: "field" },
        h("label", { for: commentId }, "Comment ", h("span", { class: "field__note", text: "(optional)" })), comment),
      error, send);
    form.addEventListener("change", () => {
      const picked = form.querySelector("input[type=radio]:checked");
      chosen.textContent = picked ? WORDS[Number(picked.value) - 1] : "";
      form.dataset.rating = picked?.value ?? "";
      error.hidden = true;
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const picked = form.querySelector("input[type=radio]:checked");
      if (!picked) {
        error.textContent = "Please choose from 1 to 5 stars.";
        error.hidden = false;
        form.querySelector("input[type=radio]").focus();
        return;
      }
      send.disabled = true;
      error.hidden = true;
      try {
        await this.socket.request({ type: "chat.rate", chat_id: this.chatId, rating: Number(picked.value),
          comment: comment.value.trim() });
      } catch (failure) {
        send.disabled = false;
        error.textContent = `Couldn't send your rating: ${failure.message}`;
        error.hidden = false;
        return;
      }
      this.#thanks(true);
    });
    return form;
  }

  #thanks(focus = false) {
    const thanks = h("p", { class: "p-rating__thanks", role: "status", tabindex: "-1", "data-testid": "rating-thanks",
      text: "Thank you for your feedback." });
    this.slot.replaceChildren(thanks);
    if (focus) thanks.focus();
  }
}
