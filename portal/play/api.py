"""The game through the JSON API, so a mobile app or a chat bot can play."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal.accounts.models import Role
from portal.accounts.service import Also, SignedIn
from portal.accounts.sessions import require_token
from portal.play import games, gamesql, month
from portal.play.errors import NotFound
from portal.play.games import ChoicePosition, Rules
from portal.web.api import ApiError, json_body, validate
from portal.web.forms import DatabaseId


class CardOut(BaseModel):
    kind: str
    id: int
    title: str
    description: str
    state: str = Field(description="new, in_progress, done or closed")
    questions: int
    points_at_stake: int
    score: int | None
    correct: int | None
    game_id: int | None
    mandatory: bool
    closes_at: datetime = Field(description="When it stops being playable (its pack closes)")
    survey: bool = Field(description="A survey: no right answers; points_at_stake are its "
                                     "points for finishing")


class GameStartedOut(BaseModel):
    game_id: int
    attempt: int
    status: str


class ChoiceOut(BaseModel):
    position: int
    text: str


class QuestionOut(BaseModel):
    game_id: int
    quiz_title: str
    number: int
    total: int
    question_id: int
    type: str
    text: str
    image: str | None
    choices: list[ChoiceOut]
    time_limit: int
    remaining: float = Field(description="Seconds left by the server's clock")
    points_so_far: int


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: DatabaseId
    choices: list[ChoicePosition] = Field(max_length=8,
                                          description="Positions as sent; [] gives up")


class AnswerOut(BaseModel):
    game_id: int
    question_id: int
    correct: bool = Field(description="Right and in time; only such answers earn points")
    timed_out: bool = Field(description="No choice was sent (the time ran out, or [] gave up)")
    outcome: games.AnswerOutcome = Field(
        description="correct, wrong, timed_out (no choice), too_late: a choice that "
                    "arrived after the time limit plus the network grace (never correct), "
                    "or accepted: a survey's answer, neither right nor wrong")
    points: int
    correct_positions: list[int]
    chosen_positions: list[int]
    explanation: str
    finished: bool


class GameOut(BaseModel):
    game_id: int
    quiz_id: int
    quiz_title: str
    status: str
    total: int
    correct: int
    points: int
    credited: int
    passed: bool | None
    course_id: int | None
    survey: bool = Field(description="A survey: no right answers, every answer accepted, "
                                     "finishing it earns its points")


class MonthOut(BaseModel):
    items: list[CardOut]
    still_to_earn: int = Field(description="The most the items not done yet can still earn")
    unfinished: list[GameOut] = Field(description="Games not finished in time: their points "
                                                  "burned (the newest 20)")


MODELS: list[type[BaseModel]] = [MonthOut, CardOut, GameStartedOut, QuestionOut, ChoiceOut,
                                 AnswerIn, AnswerOut, GameOut]


# The hot path's replies are built straight from the service's dataclasses, field by field
# of their models (no asdict copy, no validation of what the service made): the models
# still document them, and tests/play/test_api_hot_path.py holds that each reply is its
# model's dump.
_QUESTION_FIELDS = tuple(name for name in QuestionOut.model_fields if name != "choices")
_ANSWER_FIELDS = tuple(AnswerOut.model_fields)


def question_json(view: games.QuestionView) -> dict[str, Any]:
    """``QuestionOut``'s JSON of a question view."""
    found = {name: getattr(view, name) for name in _QUESTION_FIELDS}
    found["choices"] = [{"position": c.position, "text": c.text} for c in view.choices]
    return found


def answer_json(result: games.AnswerResult) -> dict[str, Any]:
    """``AnswerOut``'s JSON of an answer's result (the outcome, a StrEnum, is its text)."""
    return {name: getattr(result, name) for name in _ANSWER_FIELDS}


async def _player(request: Request) -> Any:
    return (await _signed_in_player(request)).person


async def _signed_in_player(request: Request, also: Also | None = None) -> SignedIn:
    who = await require_token(request, also=also)
    if Role.PLAYER not in who.roles:
        raise ApiError(403, "Playing is for players.")
    return who


def _found(who: SignedIn) -> gamesql.Found:
    found = gamesql.found_in(who.row)
    if found is None:
        raise NotFound()  # no such game of theirs
    return found


def _now() -> datetime:
    return datetime.now(UTC)


def _rules(request: Request) -> Rules:
    return Rules.of(request.app.state.settings)


def _game_out(summary: games.GameSummary) -> GameOut:
    return GameOut(**{**asdict(summary), "status": summary.status.value})


async def this_month(request: Request) -> Response:
    """This month's live quizzes and courses, and the games I did not finish.
    ---
    summary: This month's quizzes and courses, with my state in each
    security: [{bearer: []}]
    responses:
      200:
        description: The live items
        content:
          application/json:
            schema: {$ref: '#/components/schemas/MonthOut'}
      403: {description: Playing is for players}
    """
    person = await _player(request)
    found = await month.this_month(person, now=_now())
    return JSONResponse(MonthOut(items=[CardOut(**asdict(c)) for c in found.cards],
                                 still_to_earn=found.still_to_earn,
                                 unfinished=[_game_out(s) for s in found.unfinished]
                                 ).model_dump(mode="json"))


async def start(request: Request) -> Response:
    """Start a quiz, or resume the unfinished game.
    ---
    summary: Start or resume a game
    security: [{bearer: []}]
    parameters:
      - {name: quiz_id, in: path, required: true, schema: {type: integer}}
    responses:
      200:
        description: The game to play
        content:
          application/json:
            schema: {$ref: '#/components/schemas/GameStartedOut'}
      403: {description: Playing is for players}
      404: {description: No such quiz}
      409: {description: Not open now, or already played}
    """
    person = await _player(request)
    game = await games.start(person, request.path_params["quiz_id"], now=_now(),
                             rules=_rules(request))
    return JSONResponse(GameStartedOut(game_id=game.id, attempt=game.attempt,
                                       status=game.status).model_dump())


async def question(request: Request) -> Response:
    """The current question, without its answer; its clock starts the first time.
    ---
    summary: The question I am on
    security: [{bearer: []}]
    parameters:
      - {name: game_id, in: path, required: true, schema: {type: integer}}
    responses:
      200:
        description: The question and the seconds that remain
        content:
          application/json:
            schema: {$ref: '#/components/schemas/QuestionOut'}
      204: {description: The game is over; read its result}
      403: {description: Playing is for players}
      404: {description: No such game of mine}
    """
    game_id = request.path_params["game_id"]
    # Who asks and their game, in one statement.
    who = await _signed_in_player(request, also=gamesql.with_session(game_id))
    view = await games.current_question(who.person, game_id, now=_now(),
                                        rules=_rules(request), found=_found(who))
    if view is None:
        return Response(status_code=204)
    return JSONResponse(question_json(view))


async def answer(request: Request) -> Response:
    """Answer the current question (a repeat answers as the first time).
    ---
    summary: Answer the current question
    security: [{bearer: []}]
    parameters:
      - {name: game_id, in: path, required: true, schema: {type: integer}}
    requestBody:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/AnswerIn'}
    responses:
      200:
        description: Right, wrong or too late, the points, and now the correct choices
        content:
          application/json:
            schema: {$ref: '#/components/schemas/AnswerOut'}
      403: {description: Playing is for players}
      404: {description: No such game of mine}
      409: {description: Not the current question, or the game is over}
      422: {description: Invalid body}
    """
    try:
        body = validate(AnswerIn, json_body(await request.body()))
    except ApiError:
        await _signed_in_player(request)  # who asks is answered first: 401, 403
        raise
    game_id = request.path_params["game_id"]
    # Who asks, their game and the question with any answer already given, in one statement.
    who = await _signed_in_player(request,
                                  also=gamesql.with_session(game_id, body.question_id))
    result = await games.answer(who.person, game_id, body.question_id, body.choices,
                                now=_now(), rules=_rules(request), found=_found(who))
    return JSONResponse(answer_json(result))


async def game(request: Request) -> Response:
    """A game's result (or its state while it runs).
    ---
    summary: A game's result
    security: [{bearer: []}]
    parameters:
      - {name: game_id, in: path, required: true, schema: {type: integer}}
    responses:
      200:
        description: Correct answers, speed points and what was credited
        content:
          application/json:
            schema: {$ref: '#/components/schemas/GameOut'}
      403: {description: Playing is for players}
      404: {description: No such game of mine}
    """
    person = await _player(request)
    summary = await games.summary(person, request.path_params["game_id"])
    return JSONResponse(_game_out(summary).model_dump())


routes: list[BaseRoute] = [
    Route("/play/month", this_month, methods=["GET"], name="api.play.month"),
    Route("/play/quizzes/{quiz_id:id}/start", start, methods=["POST"], name="api.play.start"),
    Route("/play/games/{game_id:id}/question", question, methods=["GET"],
          name="api.play.question"),
    Route("/play/games/{game_id:id}/answer", answer, methods=["POST"], name="api.play.answer"),
    Route("/play/games/{game_id:id}", game, methods=["GET"], name="api.play.game"),
]
