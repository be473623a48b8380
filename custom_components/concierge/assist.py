"""Voice questions for Assist: deliveries, visitors, who is at a door, the cleaner.

The sentences are registered with the conversation integration's default agent as
sentence triggers (the mechanism behind automations' "sentence" trigger), so they work
without files in `config/custom_sentences` and with every agent that handles sentence
triggers locally. English and German sentences are both registered; each answers in its
own language.

Only questions: nothing here unlocks a door, starts a visit or reads a PIN, token or
code. The answers (see `core/answers.py`) say labels, door names and local times.

`conversation` is not a manifest dependency (Home Assistant would install its
requirements for every Concierge user): the triggers are registered when, and only
if, the conversation integration is set up.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant, callback
from homeassistant.setup import async_when_setup
from homeassistant.util import dt as dt_util

from .core.answers import Question, SiteView, answer
from .site_runtime import home_sites

if TYPE_CHECKING:
    from hassil.recognize import RecognizeResult
    from homeassistant.components.conversation import ConversationInput

_LOGGER = logging.getLogger(__name__)

DOOR_SLOT = "door"

# hassil templates: (a|b) alternatives, [optional] parts, {door} the spoken door name.
# No punctuation: Assist drops it from what was said before matching.
SENTENCES: Mapping[str, Mapping[Question, tuple[str, ...]]] = {
    "en": {
        Question.PACKAGE: (
            "(was|has|have) my (package|packages|parcel|parcels) [been] delivered [today]",
            "(did|has) my (package|parcel|delivery) (arrive|arrived|come) [today]",
            "(is|are) my (package|packages|parcel|parcels|delivery) here [yet]",
            "(did|has) the (courier|delivery driver|postman|mailman) (come|been|delivered) [today]",
            "(did|have) (I|we) (get|got) [a|any] (package|packages|parcel|parcels|delivery) today",
            "(were there|have there been|was there) any deliveries today",
        ),
        Question.VISITORS: (
            "who is visiting [us] [right now|now|today]",
            "who's visiting [us] [right now|now|today]",
            "(is|are) (anyone|anybody|someone|somebody) visiting [us] [right now|now]",
            "(do|have) we [got] (visitors|a visitor|guests|a guest) [right now|now]",
            "(are there|any) visitors [right now|now]",
        ),
        Question.AT_DOOR: (
            "(is|are) [there] (anyone|anybody|someone|somebody) at [the] {door}",
            "(who is|who's) at [the] {door} [right now|now]",
        ),
        Question.CLEANER: (
            (
                "when (does|will) the (cleaner|cleaners|cleaning lady|housekeeper|maid) "
                "[next] (come|be here|arrive) [next]"
            ),
            (
                "when (is|are) the (cleaner|cleaners|cleaning lady|housekeeper|maid) "
                "(coming|due|here|arriving) [next]"
            ),
            "when is the next cleaning",
        ),
    },
    "de": {
        Question.PACKAGE: (
            (
                "(wurde|ist|wurden|sind) mein[e] (Paket|Pakete|Päckchen|Sendung) [heute] "
                "(geliefert|gekommen|angekommen|zugestellt|da) [worden]"
            ),
            "(ist|kam) [heute] (ein|mein) (Paket|Päckchen) (gekommen|angekommen|da)",
            "(war|kam) [heute] [schon] der (Kurier|Paketbote|Postbote|Lieferdienst) [schon] da",
            (
                "hat der (Kurier|Paketbote|Postbote|Lieferdienst) [heute] [etwas|mein Paket] "
                "(geliefert|gebracht)"
            ),
            "gab es heute [eine] (Lieferung|Lieferungen)",
            "habe ich heute [ein] (Paket|Päckchen) bekommen",
        ),
        Question.VISITORS: (
            "wer ist [gerade|jetzt|heute] zu Besuch",
            "wer besucht uns [gerade|jetzt|heute]",
            "(ist|sind) [gerade|jetzt] (jemand|wer|Besucher|Gäste) zu Besuch",
            "haben wir [gerade|jetzt] Besuch",
        ),
        Question.AT_DOOR: (
            "(ist|steht) [gerade|jetzt] (jemand|wer) (an|vor|bei) [der|dem|den] {door}",
            "(ist|steht) [gerade|jetzt] (jemand|wer) am {door}",
            "wer (ist|steht) [gerade|jetzt] (an|vor|bei) [der|dem|den] {door}",
            "wer (ist|steht) [gerade|jetzt] am {door}",
        ),
        Question.CLEANER: (
            (
                "wann kommt (die|der|unsere|unser) (Putzkraft|Putzfrau|Putzhilfe|Reinigungskraft|"
                "Haushaltshilfe|Putzmann|Putzdienst|Reinigungsdienst) [das nächste Mal|wieder|"
                "als nächstes]"
            ),
            "wann wird [wieder|das nächste Mal] geputzt",
            "wann ist [die] nächste Reinigung",
        ),
    },
}

type TriggerCallback = Callable[["ConversationInput", "RecognizeResult"], Awaitable[str | None]]


@callback
def async_setup_assist(hass: HomeAssistant) -> None:
    """Register the voice questions once the conversation integration is set up."""
    async_when_setup(hass, "conversation", _async_register)


async def _async_register(hass: HomeAssistant, _component: str) -> None:
    # Imported here: the conversation integration (and its requirements) may be absent.
    from homeassistant.components.conversation.agent_manager import (  # noqa: PLC0415
        get_agent_manager,
    )

    manager = get_agent_manager(hass)
    for language, questions in SENTENCES.items():
        for question, sentences in questions.items():
            manager.register_trigger(list(sentences), _responder(hass, question, language))
    _LOGGER.debug("Registered Concierge's voice questions")


def _responder(hass: HomeAssistant, question: Question, language: str) -> TriggerCallback:
    async def _respond(_user_input: ConversationInput, result: RecognizeResult) -> str:
        door = result.entities.get(DOOR_SLOT)
        return async_answer(
            hass, question, language, door=None if door is None else str(door.value)
        )

    return _respond


@callback
def async_answer(
    hass: HomeAssistant, question: Question, language: str, *, door: str | None = None
) -> str:
    """Answer a question from the loaded homes' state (a store has no doors or grants)."""
    sites = [
        SiteView(
            name=c.site.name,
            portals={p.portal_id: p.name for p in c.site.portals},
            grants=c.data.grants,
            visits=c.visits_list(),
        )
        for c in home_sites(hass)
    ]
    tz = ZoneInfo(hass.config.time_zone)
    return answer(question, language, sites, dt_util.utcnow(), tz, door=door)
