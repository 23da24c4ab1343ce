"""The Bot API methods the emulator answers (`devtools.fakeapi.FakeBotApi` inherits them):
each `_api_NAME` takes the request's parameters and returns the result or raises
`ApiError` as Telegram would."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import struct
import time
from typing import Any

from devtools.telegram_rules import BOT_USER, ApiError, Sent, parse_html, utf16_len


class BotApiMethods:
    """getMe, getUpdates, sendMessage, editMessageText, sendDocument, sendPhoto,
    editMessageMedia, answerCallbackQuery,
    answerInlineQuery, getFile, getChatMember, getChat, setMyCommands and the webhook."""

    # the emulator's state these methods read and write (set by FakeBotApi)
    sent: list[Sent]
    files: dict[str, bytes]
    chat_admins: dict[int, set[int]]
    webhook: tuple[str, str] | None
    documents: list[tuple[int, str, bytes, str]]
    photos: dict[int, bytes]  # message id → the picture it shows now
    forums: set[int]
    closed_topics: set[tuple[int, int]]
    deleted_topics: set[tuple[int, int]]
    _updates: list[dict[str, Any]]
    _message_ids: itertools.count[int]
    _new_update: asyncio.Event
    _sent_event: asyncio.Event

    @staticmethod
    def user(user_id: int, language: str = "fr", name: str = "Lecteur") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name, "language_code": language}

    def chat(self, chat_id: int, kind: str = "private", title: str = "Groupe") -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": kind}
        if kind != "private":
            chat["title"] = title
        if chat_id in self.forums:
            chat["type"], chat["is_forum"] = "supergroup", True
        return chat

    def _thread(
        self, chat_id: int, params: dict[str, Any], message_id: int | None = None
    ) -> dict[str, Any]:
        """A send's `message_thread_id`, checked as Telegram does: a topic of a forum that
        is open; the fields the sent message then carries. An edit stays where it was."""
        if message_id is not None:
            earlier = [s for s in self.sent if s.message_id == message_id]
            thread_id = earlier[-1].thread_id if earlier else None
            return {} if thread_id is None else {"message_thread_id": thread_id,
                                                 "is_topic_message": True}  # fmt: skip
        raw = params.get("message_thread_id")
        if raw is None:
            return {}
        thread = int(raw)
        if chat_id not in self.forums:
            raise ApiError(400, "Bad Request: message thread not found")
        if (chat_id, thread) in self.deleted_topics:
            raise ApiError(400, "Bad Request: message thread not found")
        if (chat_id, thread) in self.closed_topics:
            raise ApiError(400, "Bad Request: TOPIC_CLOSED")
        return {"message_thread_id": thread, "is_topic_message": True}

    async def _api_unknown(self, params: dict[str, Any]) -> Any:
        raise ApiError(404, "Not Found: method not found")

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
        else:
            self.webhook = (url, str(params.get("secret_token") or ""))
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        limit = int(params.get("limit") or 100)
        return self._updates[:limit]

    def _chat_id(self, params: dict[str, Any]) -> int:
        try:
            return int(params["chat_id"])
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    def _record(self, method: str, params: dict[str, Any], message_id: int | None = None) -> Any:
        chat_id = self._chat_id(params)
        text = str(params.get("text", ""))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        plain = parse_html(text) if params.get("parse_mode") == "HTML" else text
        if utf16_len(plain) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = self._markup(params)
        topic = self._thread(chat_id, params, message_id)
        sent = Sent(chat_id, message_id or next(self._message_ids), plain, text, markup, method,
                    topic.get("message_thread_id"))  # fmt: skip
        self.sent.append(sent)
        self._sent_event.set()
        return {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id, "private" if chat_id > 0 else "group"),
            "from": BOT_USER,
            "text": plain,
            **topic,
            **({"reply_markup": markup} if markup else {}),
        }

    @staticmethod
    def _markup(params: dict[str, Any]) -> dict[str, Any] | None:
        markup: dict[str, Any] | None = params.get("reply_markup")
        if markup is not None:
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if len(button.get("callback_data", "").encode()) > 64:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _picture(data: bytes) -> tuple[int, int]:
        """A PNG's width and height, checked as Telegram checks a photo."""
        if not data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        if len(data) > 10 * 1024 * 1024:
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        width, height = struct.unpack(">II", data[16:24])
        if (
            not width
            or not height
            or width + height > 10000
            or max(width, height) > 20 * min(width, height)
        ):
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        return width, height

    def _photo(self, method: str, params: dict[str, Any], data: bytes, caption: str,
               parse_mode: str | None, message_id: int | None = None) -> Any:  # fmt: skip
        chat_id = self._chat_id(params)
        width, height = self._picture(data)
        plain = parse_html(caption) if parse_mode == "HTML" else caption
        if utf16_len(plain) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        markup = self._markup(params)
        if message_id is not None:
            before = [s for s in self.sent if s.message_id == message_id]
            if message_id not in self.photos:
                raise ApiError(400, "Bad Request: there is no media in the message to edit")
            if (
                before
                and self.photos[message_id] == data
                and before[-1].html == caption
                and (before[-1].reply_markup == markup)
            ):
                raise ApiError(400, "Bad Request: message is not modified")
        topic = self._thread(chat_id, params, message_id)
        sent = Sent(chat_id, message_id or next(self._message_ids), plain, caption, markup, method,
                    topic.get("message_thread_id"))  # fmt: skip
        self.photos[sent.message_id] = data
        self.sent.append(sent)
        self._sent_event.set()
        size = {"file_id": f"p{sent.message_id}", "file_unique_id": f"p{sent.message_id}",
                "width": width, "height": height, "file_size": len(data)}  # fmt: skip
        return {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id, "private" if chat_id > 0 else "group"),
            "from": BOT_USER,
            "photo": [size],
            **topic,
            **({"caption": plain} if plain else {}),
            **({"reply_markup": markup} if markup else {}),
        }

    async def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        _name, data = params.get("_files", {}).get("photo", (None, b""))
        return self._photo("sendPhoto", params, data, str(params.get("caption") or ""),
                           params.get("parse_mode"))  # fmt: skip

    async def _api_editMessageMedia(self, params: dict[str, Any]) -> Any:
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") != "photo":
            raise ApiError(400, "Bad Request: can't parse InputMedia")
        attached = str(media.get("media", "")).removeprefix("attach://")
        _name, data = params.get("_files", {}).get(attached, (None, b""))
        return self._photo("editMessageMedia", params, data, str(media.get("caption") or ""),
                           media.get("parse_mode"), int(params["message_id"]))  # fmt: skip

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        return self._record("sendMessage", params)

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        return self._record("editMessageText", params, int(params["message_id"]))

    async def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        name, data = params.get("_files", {}).get("document", (None, b""))
        if not data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        topic = self._thread(chat_id, params)
        self.documents.append((chat_id, str(name), data, str(params.get("caption") or "")))
        self._sent_event.set()
        document = {"file_id": "sent", "file_unique_id": "sent", "file_name": name}
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": self.chat(chat_id, "private" if chat_id > 0 else "group"),
                "document": document, **topic}  # fmt: skip

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_deleteMessage(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_answerInlineQuery(self, params: dict[str, Any]) -> Any:
        for result in params.get("results") or []:
            content = result.get("input_message_content", {})
            if content.get("parse_mode") == "HTML":
                parse_html(content.get("message_text", ""))
        return True

    async def _api_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": file_id,
        }

    async def _api_getChatMember(self, params: dict[str, Any]) -> Any:
        chat_id, user_id = self._chat_id(params), int(params["user_id"])
        status = "administrator" if user_id in self.chat_admins.get(chat_id, set()) else "member"
        extra = {"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
                 "can_delete_messages": True, "can_manage_video_chats": True,
                 "can_restrict_members": True, "can_promote_members": False,
                 "can_change_info": True, "can_invite_users": True, "can_post_stories": False,
                 "can_edit_stories": False, "can_delete_stories": False}  # fmt: skip
        member: dict[str, Any] = {"status": status, "user": self.user(user_id)}
        if status == "administrator":
            member.update(extra)
        return member

    async def _api_getChat(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        return {**self.chat(chat_id, "private" if chat_id > 0 else "group"), "accent_color_id": 0}
