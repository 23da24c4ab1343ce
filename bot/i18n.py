"""Message catalogues: French (the fallback), English, Ukrainian.

`t(lang, key, **values)` returns the text with `values` already HTML-escaped, so callers
can put user-provided strings in safely. Markup lives only in the catalogue.
"""

from __future__ import annotations

import html
from typing import Any

from bot.languages import FALLBACK, LANGUAGES

CATALOGUES: dict[str, dict[str, str]] = {
    "fr": {
        "welcome": "<b>Bonjour {name} !</b>\nHebdo résume chaque semaine les bulletins d’actualité "
        "en quelques lignes. Abonnez-vous pour recevoir le résumé de la semaine, ou posez une "
        "question : écrivez simplement « frappes Kharkiv ».",
        "btn_subscribe": "🔔 S’abonner",
        "btn_unsubscribe": "🔕 Se désabonner",
        "btn_settings": "⚙️ Réglages",
        "subscribed": "🔔 Abonné. Résumé le {day} à {time} ({tz}). /settings pour changer.",
        "already_subscribed": "Vous êtes déjà abonné. /settings pour les réglages.",
        "unsubscribed": "🔕 Désabonné. Vous ne recevrez plus rien. /subscribe pour revenir.",
        "not_subscribed": "Vous n’êtes pas abonné. /subscribe pour vous abonner.",
        "group_admins_only": "Ici, seuls les administrateurs du groupe ou du canal peuvent "
        "changer cela.",
        "settings": "<b>Réglages</b>\nJour : {day}\nHeure : {time}\nFuseau : {tz}\n"
        "Langue : {language}\nEnvoi : {mode}\nAbonnement : {state}",
        "state_on": "actif",
        "state_off": "inactif",
        "btn_day": "📅 Jour",
        "btn_hour": "🕘 Heure",
        "btn_tz": "🌍 Fuseau",
        "btn_language": "🗣 Langue",
        "btn_mode": "📬 Envoi",
        "btn_back": "↩️ Retour",
        "btn_other_tz": "Autre…",
        "pick_day": "Quel jour recevoir le résumé ?",
        "pick_hour": "À quelle heure ?",
        "pick_tz": "Quel fuseau horaire ? (ou « Autre… » pour en écrire un)",
        "pick_language": "Quelle langue ?",
        "pick_mode": "Que recevoir ?",
        "ask_tz": "Écrivez le nom IANA du fuseau, par exemple <code>America/Montreal</code>.",
        "bad_tz": "Fuseau inconnu : <code>{tz}</code>. Exemple : <code>Europe/Paris</code>.",
        "saved": "✅ Enregistré.",
        "mode_weekly": "résumé hebdomadaire",
        "mode_every": "chaque nouveau bulletin",
        "mode_both": "les deux",
        "days": "lundi mardi mercredi jeudi vendredi samedi dimanche",
        "help": "<b>Commandes</b>\n{commands}\n\nÉcrivez aussi des mots pour chercher dans les "
        'archives : <i>patriot zelensky</i>, <i>"accord historique"</i>, '
        "<i>patriot -allemagne</i>, <i>otan since:2025-07</i>.",
        "no_bulletin": "Aucun bulletin pour l’instant.",
        "btn_more": "📖 Suite",
        "digest_count": "{n} bulletin(s) cette semaine",
        "digest_empty": "Rien de nouveau depuis votre dernier résumé.",
        "tz_question_closed": "Question du fuseau horaire abandonnée.",
        "nothing_to_cancel": "Rien à annuler.",
        "or_cancel": "Réessayez, ou /cancel pour abandonner.",
        "slow_down": "⏳ Doucement : trop de messages d’un coup. Réessayez dans quelques secondes.",
        "digest_nothing_new": "Rien de nouveau depuis votre dernier résumé : aucun résumé ne "
        "vous serait envoyé maintenant. Le dernier bulletin : /latest",
        "latest": "<b>{title}</b>\n<i>{date}</i>\n\n{items}",
        "search_usage": "Utilisation : /search MOTS — par exemple <code>/search patriot</code>.\n"
        "<i>{hint}</i>",
        "nothing_found": "Rien trouvé pour <i>{query}</i>.\nEssayez moins de mots, ou un autre "
        "mot : les accents et pluriels n’ont pas d’importance.",
        "results": "🔎 <b>{query}</b> — {first}–{last} sur {total}",
        "btn_read": "📖 {n}",
        "expired": "Ce bouton a expiré.",
        "follow_usage": "Utilisation : /follow MOT — par exemple <code>/follow otan</code>.",
        "followed": "👀 Vous serez prévenu quand un bulletin parlera de <b>{term}</b>.",
        "already_followed": "Vous suivez déjà <b>{term}</b>.",
        "follow_limit": "Vous suivez déjà {n} mots, le maximum. /unfollow pour en retirer.",
        "following": "<b>Vous suivez</b> :\n{terms}\n\nTouchez un mot pour ne plus le suivre.",
        "following_none": "Vous ne suivez aucun mot. /follow otan pour commencer.",
        "unfollowed": "Vous ne suivez plus <b>{term}</b>.",
        "unfollow_usage": "Utilisation : /unfollow MOT, ou touchez un mot dans /following.",
        "not_followed": "Vous ne suiviez pas <b>{term}</b>.",
        "error": "Désolé, une erreur est survenue. Réessayez dans un instant.",
        "not_admin": "Désolé, cette commande est réservée aux administrateurs.",
        "new_bulletin": "🆕 <b>Nouveau bulletin</b>",
        "new_bulletins": "🆕 <b>{n} nouveaux bulletins</b>",
        "more_bulletins": "… et {n} de plus : /latest pour le dernier, /search pour chercher.",
        "alert": "👀 <b>{terms}</b> dans un nouveau bulletin",
        "unknown_command": "Commande inconnue. /help liste les commandes.",
    },
    "en": {
        "welcome": "<b>Hello {name}!</b>\nHebdo sums up each week’s news bulletins in a few lines. "
        "Subscribe to get the weekly digest, or ask away: just type “Patriot Zelensky”.",
        "btn_subscribe": "🔔 Subscribe",
        "btn_unsubscribe": "🔕 Unsubscribe",
        "btn_settings": "⚙️ Settings",
        "subscribed": "🔔 Subscribed. Digest on {day} at {time} ({tz}). /settings to change.",
        "already_subscribed": "You are already subscribed. /settings for settings.",
        "unsubscribed": "🔕 Unsubscribed. You will get nothing more. /subscribe to come back.",
        "not_subscribed": "You are not subscribed. /subscribe to subscribe.",
        "group_admins_only": "Here, only the group’s or channel’s administrators can change this.",
        "settings": "<b>Settings</b>\nDay: {day}\nTime: {time}\nTime zone: {tz}\n"
        "Language: {language}\nDelivery: {mode}\nSubscription: {state}",
        "state_on": "active",
        "state_off": "inactive",
        "btn_day": "📅 Day",
        "btn_hour": "🕘 Time",
        "btn_tz": "🌍 Time zone",
        "btn_language": "🗣 Language",
        "btn_mode": "📬 Delivery",
        "btn_back": "↩️ Back",
        "btn_other_tz": "Other…",
        "pick_day": "Which day should the digest arrive?",
        "pick_hour": "At what time?",
        "pick_tz": "Which time zone? (or “Other…” to type one)",
        "pick_language": "Which language?",
        "pick_mode": "What should you get?",
        "ask_tz": "Type the IANA time zone name, e.g. <code>America/New_York</code>.",
        "bad_tz": "Unknown time zone: <code>{tz}</code>. Example: <code>Europe/London</code>.",
        "saved": "✅ Saved.",
        "mode_weekly": "weekly digest",
        "mode_every": "every new bulletin",
        "mode_both": "both",
        "days": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
        "help": "<b>Commands</b>\n{commands}\n\nYou can also type words to search the archive: "
        '<i>patriot zelensky</i>, <i>"signed a deal"</i>, <i>patriot -germany</i>, '
        "<i>nato since:2025-07</i>.",
        "no_bulletin": "No bulletin yet.",
        "btn_more": "📖 More",
        "digest_count": "{n} bulletin(s) this week",
        "digest_empty": "Nothing new since your last digest.",
        "tz_question_closed": "Time zone question dropped.",
        "nothing_to_cancel": "Nothing to cancel.",
        "or_cancel": "Try again, or /cancel to stop.",
        "slow_down": "⏳ Easy: too many messages at once. Try again in a few seconds.",
        "digest_nothing_new": "Nothing new since your last digest: no digest would be sent to "
        "you now. The latest bulletin: /latest",
        "latest": "<b>{title}</b>\n<i>{date}</i>\n\n{items}",
        "search_usage": "Usage: /search WORDS — for example <code>/search patriot</code>.\n"
        "<i>{hint}</i>",
        "nothing_found": "Nothing found for <i>{query}</i>.\nTry fewer words or another word: "
        "accents and plurals don’t matter.",
        "results": "🔎 <b>{query}</b> — {first}–{last} of {total}",
        "btn_read": "📖 {n}",
        "expired": "This button has expired.",
        "follow_usage": "Usage: /follow WORD — for example <code>/follow nato</code>.",
        "followed": "👀 You will be told when a bulletin mentions <b>{term}</b>.",
        "already_followed": "You already follow <b>{term}</b>.",
        "follow_limit": "You already follow {n} words, the maximum. /unfollow to remove some.",
        "following": "<b>You follow</b>:\n{terms}\n\nTap a word to stop following it.",
        "following_none": "You follow no word. /follow nato to start.",
        "unfollowed": "You no longer follow <b>{term}</b>.",
        "unfollow_usage": "Usage: /unfollow WORD, or tap a word in /following.",
        "not_followed": "You were not following <b>{term}</b>.",
        "error": "Sorry, something went wrong. Please try again in a moment.",
        "not_admin": "Sorry, this command is for administrators only.",
        "new_bulletin": "🆕 <b>New bulletin</b>",
        "new_bulletins": "🆕 <b>{n} new bulletins</b>",
        "more_bulletins": "… and {n} more: /latest for the newest, /search to look for one.",
        "alert": "👀 <b>{terms}</b> in a new bulletin",
        "unknown_command": "Unknown command. /help lists the commands.",
    },
    "uk": {
        "welcome": "<b>Вітаємо, {name}!</b>\nHebdo щотижня стисло підсумовує новинні бюлетені. "
        "Підпишіться на тижневий дайджест або просто напишіть запит, наприклад «Зеленський».",
        "btn_subscribe": "🔔 Підписатися",
        "btn_unsubscribe": "🔕 Відписатися",
        "btn_settings": "⚙️ Налаштування",
        "subscribed": "🔔 Ви підписані. Дайджест: {day} о {time} ({tz}). /settings — змінити.",
        "already_subscribed": "Ви вже підписані. /settings — налаштування.",
        "unsubscribed": "🔕 Ви відписалися. /subscribe — щоб повернутися.",
        "not_subscribed": "Ви не підписані. /subscribe — щоб підписатися.",
        "group_admins_only": "Тут це можуть змінювати лише адміністратори групи чи каналу.",
        "settings": "<b>Налаштування</b>\nДень: {day}\nЧас: {time}\nЧасовий пояс: {tz}\n"
        "Мова: {language}\nНадсилати: {mode}\nПідписка: {state}",
        "state_on": "активна",
        "state_off": "неактивна",
        "btn_day": "📅 День",
        "btn_hour": "🕘 Час",
        "btn_tz": "🌍 Пояс",
        "btn_language": "🗣 Мова",
        "btn_mode": "📬 Надсилати",
        "btn_back": "↩️ Назад",
        "btn_other_tz": "Інший…",
        "pick_day": "У який день надсилати дайджест?",
        "pick_hour": "О котрій?",
        "pick_tz": "Який часовий пояс? («Інший…» — ввести вручну)",
        "pick_language": "Яка мова?",
        "pick_mode": "Що надсилати?",
        "ask_tz": "Напишіть назву пояса IANA, наприклад <code>Europe/Kyiv</code>.",
        "bad_tz": "Невідомий пояс: <code>{tz}</code>. Приклад: <code>Europe/Kyiv</code>.",
        "saved": "✅ Збережено.",
        "mode_weekly": "тижневий дайджест",
        "mode_every": "кожен новий бюлетень",
        "mode_both": "обидва",
        "days": "понеділок вівторок середа четвер пʼятниця субота неділя",
        "help": "<b>Команди</b>\n{commands}\n\nТакож можна просто написати слова для пошуку в "
        "архіві: <i>Харків</i>, <i>Зеленський</i>, <i>нато since:2025-07</i>.",
        "no_bulletin": "Бюлетенів ще немає.",
        "btn_more": "📖 Далі",
        "digest_count": "Бюлетенів цього тижня: {n}",
        "digest_empty": "Нічого нового від попереднього дайджесту.",
        "tz_question_closed": "Питання про часовий пояс скасовано.",
        "nothing_to_cancel": "Нічого скасовувати.",
        "or_cancel": "Спробуйте ще раз або /cancel, щоб скасувати.",
        "slow_down": "⏳ Повільніше: забагато повідомлень одразу. Спробуйте за кілька секунд.",
        "digest_nothing_new": "Нічого нового від попереднього дайджесту: зараз вам нічого не "
        "надіслали б. Останній бюлетень: /latest",
        "latest": "<b>{title}</b>\n<i>{date}</i>\n\n{items}",
        "search_usage": "Використання: /search СЛОВА — наприклад <code>/search patriot</code>.\n"
        "<i>{hint}</i>",
        "nothing_found": "Нічого не знайдено за запитом <i>{query}</i>.\nСпробуйте менше слів "
        "або інше слово.",
        "results": "🔎 <b>{query}</b> — {first}–{last} з {total}",
        "btn_read": "📖 {n}",
        "expired": "Ця кнопка застаріла.",
        "follow_usage": "Використання: /follow СЛОВО — наприклад <code>/follow нато</code>.",
        "followed": "👀 Ми повідомимо, коли бюлетень згадає <b>{term}</b>.",
        "already_followed": "Ви вже стежите за <b>{term}</b>.",
        "follow_limit": "Ви вже стежите за {n} словами — це максимум. /unfollow — прибрати.",
        "following": "<b>Ви стежите за</b>:\n{terms}\n\nТоркніться слова, щоб припинити.",
        "following_none": "Ви ні за чим не стежите. /follow нато — почати.",
        "unfollowed": "Ви більше не стежите за <b>{term}</b>.",
        "unfollow_usage": "Використання: /unfollow СЛОВО або торкніться слова в /following.",
        "not_followed": "Ви не стежили за <b>{term}</b>.",
        "error": "Вибачте, сталася помилка. Спробуйте ще раз за мить.",
        "not_admin": "Вибачте, ця команда лише для адміністраторів.",
        "new_bulletin": "🆕 <b>Новий бюлетень</b>",
        "new_bulletins": "🆕 <b>Нових бюлетенів: {n}</b>",
        "more_bulletins": "… і ще {n}: /latest — найновіший, /search — пошук.",
        "alert": "👀 <b>{terms}</b> у новому бюлетені",
        "unknown_command": "Невідома команда. /help — список команд.",
    },
}

LANGUAGE_NAMES = {code: lang.name for code, lang in LANGUAGES.items()}


def language_of(code: str | None) -> str:
    """A catalogue language for a Telegram `language_code` (`fr-CA` → fr): French, English or
    Ukrainian as the user's; any other language gets English; no code at all, French."""
    if not code:
        return FALLBACK
    base = code.split("-")[0].lower()
    return base if base in CATALOGUES else "en"


class Html(str):
    """Already-rendered Telegram HTML: interpolated as is."""


def t(lang: str, key: str, /, **values: Any) -> str:
    """The message `key` in language `lang` (French if missing), values escaped unless `Html`."""
    template = CATALOGUES.get(lang, CATALOGUES[FALLBACK]).get(key) or CATALOGUES[FALLBACK][key]
    return template.format(
        **{
            k: v if isinstance(v, Html) else html.escape(str(v), quote=False)
            for k, v in values.items()
        }
    )


def day_name(lang: str, day: int) -> str:
    """Monday = 0 … Sunday = 6, in language `lang`."""
    return t(lang, "days").split()[day]
