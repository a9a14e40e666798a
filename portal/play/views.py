"""The player's side: this month's content, playing a game, results, courses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.accounts.models import Role
from portal.accounts.sessions import require_person
from portal.play import service as play
from portal.settings import Settings
from portal.web.forms import DatabaseId
from portal.web.templating import render

# A choice as the player was shown it: questions have at most eight.
ChoicePosition = Annotated[int, Field(ge=0, le=7)]


class AnswerForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: DatabaseId
    choice: list[ChoicePosition] = Field(default_factory=list, max_length=8)


def rules(settings: Settings) -> play.Rules:
    return play.Rules(grace_seconds=settings.answer_grace_seconds,
                      extra_minutes=settings.game_extra_minutes,
                      welcome_bonus=settings.welcome_bonus)


def _now() -> datetime:
    return datetime.now(UTC)


async def month(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    cards = await play.this_month(who.person, now=_now())
    return render(request, "play/month.html", cards=cards,
                  unfinished=await play.unfinished_games(who.person))


async def start(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    game = await play.start(who.person, request.path_params["quiz_id"], now=_now(),
                            rules=rules(request.app.state.settings))
    return RedirectResponse(request.url_for("play.game", game_id=game.id), status_code=303)


async def game(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    game_id = request.path_params["game_id"]
    question = await play.current_question(who.person, game_id, now=_now(),
                                           rules=rules(request.app.state.settings))
    if question is None:
        url = request.url_for("play.result", game_id=game_id)
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": str(url)})
        return RedirectResponse(url, status_code=303)
    template = "play/_question.html" if request.headers.get("hx-request") else "play/game.html"
    response = render(request, template, question=question, result=None)
    response.headers["Cache-Control"] = "no-store"
    return response


async def answer(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    form = await request.form()
    try:
        parsed = AnswerForm.model_validate({"question_id": form.get("question_id"),
                                            "choice": form.getlist("choice")})
    except ValidationError:
        raise HTTPException(400, "The answer form was not understood.") from None
    question_id = parsed.question_id
    result = await play.answer(who.person, request.path_params["game_id"], question_id,
                               parsed.choice, now=_now(),
                               rules=rules(request.app.state.settings))
    shown = await play.question_by_id(who.person, request.path_params["game_id"],
                                      question_id)
    template = "play/_result.html" if request.headers.get("hx-request") else "play/game.html"
    return render(request, template, question=shown, result=result)


async def leave(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    game_id = request.path_params["game_id"]
    if request.method == "GET":
        summary = await play.summary(who.person, game_id)
        return render(request, "play/leave.html", summary=summary)
    await play.leave(who.person, game_id, now=_now())
    return RedirectResponse(request.url_for("play.result", game_id=game_id), status_code=303)


async def result(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    summary = await play.summary(who.person, request.path_params["game_id"])
    return render(request, "play/result.html", summary=summary)


async def course(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    view = await play.course_view(who.person, request.path_params["course_id"], now=_now())
    return render(request, "play/course.html", course=view)


async def lesson(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    view = await play.course_view(who.person, request.path_params["course_id"], now=_now())
    current = next((item for item in view.lessons
                    if item.id == request.path_params["lesson_id"]), None)
    if current is None:
        raise HTTPException(404)
    following = next((item for item in view.lessons if item.number == current.number + 1),
                     None)
    return render(request, "play/lesson.html", course=view, lesson=current, following=following)


async def lesson_read(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    course_id = request.path_params["course_id"]
    view = await play.mark_lesson_read(who.person, course_id,
                                       request.path_params["lesson_id"], now=_now())
    unread = next((item for item in view.lessons if not item.done), None)
    if unread is not None:
        target = request.url_for("play.lesson", course_id=course_id, lesson_id=unread.id)
    else:
        target = request.url_for("play.course", course_id=course_id)
    return RedirectResponse(target, status_code=303)


async def certificate(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    found = await play.certificate(who.person, request.path_params["course_id"])
    return render(request, "play/certificate.html", certificate=found)


routes = [
    Route("/play", month, methods=["GET"], name="play.month"),
    Route("/play/quiz/{quiz_id:id}/start", start, methods=["POST"], name="play.start"),
    Route("/play/game/{game_id:id}", game, methods=["GET"], name="play.game"),
    Route("/play/game/{game_id:id}/answer", answer, methods=["POST"], name="play.answer"),
    Route("/play/game/{game_id:id}/leave", leave, methods=["GET", "POST"], name="play.leave"),
    Route("/play/game/{game_id:id}/result", result, methods=["GET"], name="play.result"),
    Route("/play/course/{course_id:id}", course, methods=["GET"], name="play.course"),
    Route("/play/course/{course_id:id}/lesson/{lesson_id:id}", lesson, methods=["GET"],
          name="play.lesson"),
    Route("/play/course/{course_id:id}/lesson/{lesson_id:id}/read", lesson_read,
          methods=["POST"], name="play.lesson_read"),
    Route("/play/course/{course_id:id}/certificate", certificate, methods=["GET"],
          name="play.certificate"),
]
