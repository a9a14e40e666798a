"""The player's side: this month's content, playing a game, results, courses."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts.models import Role
from portal.accounts.sessions import require_person
from portal.play import courses, games, month, surveys
from portal.play.games import ChoicePosition, Rules
from portal.web.exports import csv_stream
from portal.web.forms import DatabaseId
from portal.web.templating import render


class AnswerForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: DatabaseId
    choice: list[ChoicePosition] = Field(default_factory=list, max_length=8)


def _now() -> datetime:
    return datetime.now(UTC)


def _rules(request: Request) -> Rules:
    return Rules.of(request.app.state.settings)


async def this_month(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    now = _now()
    found = await month.this_month(who.person, now=now)
    return render(request, "play/month.html", cards=found.cards, unfinished=found.unfinished,
                  still_to_earn=found.still_to_earn, now=now)


async def start(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    game = await games.start(who.person, request.path_params["quiz_id"], now=_now(),
                             rules=_rules(request))
    return RedirectResponse(request.url_for("play.game", game_id=game.id), status_code=303)


async def game(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    game_id = request.path_params["game_id"]
    question = await games.current_question(who.person, game_id, now=_now(),
                                            rules=_rules(request))
    if question is None:
        url = request.url_for("pages.game_result", game_id=game_id)
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
    result = await games.answer(who.person, request.path_params["game_id"],
                                parsed.question_id, parsed.choice, now=_now(),
                                rules=_rules(request))
    template = "play/_result.html" if request.headers.get("hx-request") else "play/game.html"
    return render(request, template, question=result.question, result=result)


async def leave(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    game_id = request.path_params["game_id"]
    if request.method == "GET":
        summary = await games.summary(who.person, game_id)
        return render(request, "play/leave.html", summary=summary)
    await games.leave(who.person, game_id, now=_now())
    return RedirectResponse(request.url_for("pages.game_result", game_id=game_id), status_code=303)


async def course(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    view = await courses.course_view(who.person, request.path_params["course_id"], now=_now())
    return render(request, "play/course.html", course=view)


async def lesson(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    page = await courses.lesson_page(who.person, request.path_params["course_id"],
                                     request.path_params["lesson_id"], now=_now())
    return render(request, "play/lesson.html", course=page.course, lesson=page.lesson,
                  following=page.following)


async def lesson_read(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    course_id = request.path_params["course_id"]
    view = await courses.mark_lesson_read(who.person, course_id,
                                          request.path_params["lesson_id"], now=_now())
    if view.next_unread is not None:
        target = request.url_for("play.lesson", course_id=course_id,
                                 lesson_id=view.next_unread.id)
    else:
        target = request.url_for("play.course", course_id=course_id)
    return RedirectResponse(target, status_code=303)


async def certificate(request: Request) -> Response:
    who = require_person(request, Role.PLAYER)
    found = await courses.certificate(who.person, request.path_params["course_id"])
    return render(request, "play/certificate.html", certificate=found)



# -- surveys, for marketing -----------------------------------------------------------------

STAFF = (Role.MARKETING, Role.ADMIN)


async def survey_list(request: Request) -> Response:
    require_person(request, *STAFF)
    found = await surveys.surveys(i18n.current_language())
    return render(request, "play/surveys.html", surveys=found)


async def survey_results(request: Request) -> Response:
    require_person(request, *STAFF)
    found = await surveys.results(request.path_params["quiz_id"], i18n.current_language())
    return render(request, "play/survey_results.html", survey=found)


async def survey_export(request: Request) -> Response:
    require_person(request, *STAFF)
    quiz_id = request.path_params["quiz_id"]
    await surveys.results(quiz_id, "en")  # an unknown survey is a 404 before the download
    return csv_stream(f"survey-{quiz_id}-answers.csv", surveys.EXPORT_HEADER,
                      surveys.export_rows(quiz_id))

routes = [
    Route("/play", this_month, methods=["GET"], name="play.month"),
    Route("/marketing/surveys", survey_list, methods=["GET"], name="play.surveys"),
    Route("/marketing/surveys/{quiz_id:id}", survey_results, methods=["GET"],
          name="play.survey"),
    Route("/marketing/surveys/{quiz_id:id}/answers.csv", survey_export, methods=["GET"],
          name="play.survey_export"),
    Route("/play/quiz/{quiz_id:id}/start", start, methods=["POST"], name="play.start"),
    Route("/play/game/{game_id:id}", game, methods=["GET"], name="play.game"),
    Route("/play/game/{game_id:id}/answer", answer, methods=["POST"], name="play.answer"),
    Route("/play/game/{game_id:id}/leave", leave, methods=["GET", "POST"], name="play.leave"),
    Route("/play/course/{course_id:id}", course, methods=["GET"], name="play.course"),
    Route("/play/course/{course_id:id}/lesson/{lesson_id:id}", lesson, methods=["GET"],
          name="play.lesson"),
    Route("/play/course/{course_id:id}/lesson/{lesson_id:id}/read", lesson_read,
          methods=["POST"], name="play.lesson_read"),
    Route("/play/course/{course_id:id}/certificate", certificate, methods=["GET"],
          name="play.certificate"),
]
