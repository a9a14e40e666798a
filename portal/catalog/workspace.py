"""Marketing's side of the catalog: categories, items with pictures, pools of codes
uploaded as CSV, gift orders through their fulfilment, cancellations with refunds, and
the orders export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts.models import Role
from portal.accounts.sessions import require_person
from portal.catalog import codes
from portal.catalog import service as catalog
from portal.catalog.models import Category, ItemKind, OrderStatus
from portal.catalog.reveals import reveal_log
from portal.content.models import Course, Quiz
from portal.i18n import Refusal
from portal.web.exports import csv_download
from portal.web.forms import DatabaseId, FormErrors, parse_form
from portal.web.pagination import page_number
from portal.web.pictures import form_with_picture, redirect_after_upload
from portal.web.query import query_choice
from portal.web.templating import render

STAFF = (Role.MARKETING, Role.ADMIN)


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


Count = Annotated[int, Field(ge=0, le=1_000_000)]
OptionalCount = Annotated[Count | None, BeforeValidator(_blank_is_none)]
OptionalId = Annotated[DatabaseId | None, BeforeValidator(_blank_is_none)]


class CategoryForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(default=0, ge=0, le=1000)


class ItemForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    category_id: DatabaseId
    kind: ItemKind
    title: str = Field(min_length=2, max_length=200)
    price: int = Field(ge=1, le=100_000_000)
    description: str = Field(default="", max_length=5000)
    how_to_use: str = Field(default="", max_length=2000)
    for_companies: bool = False
    active: bool = False
    stock: OptionalCount = None
    monthly_limit: OptionalCount = None
    low_stock_at: OptionalCount = None
    unlock_quiz_id: OptionalId = None
    unlock_course_id: OptionalId = None


class CancelForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=3, max_length=500)


class AdvanceForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: OrderStatus


def _now() -> datetime:
    return datetime.now(UTC)


async def index(request: Request) -> Response:
    require_person(request, *STAFF)
    return await _render_index(request)


async def _render_index(request: Request, *, status_code: int = 200, **extra: Any
                        ) -> Response:
    context: dict[str, Any] = {"errors": {}, "values": {}, "done": request.query_params.get(
        "done", "")}
    context.update(extra)
    return render(request, "catalog/staff/index.html", status_code=status_code,
                  categories=await Category.all(), items=await catalog.staff_items(),
                  **context)


async def save_category(request: Request) -> Response:
    require_person(request, *STAFF)
    category_id = request.path_params.get("category_id")
    try:
        form = parse_form(CategoryForm, await request.form())
        await catalog.save_category(form.name, position=form.position,
                                    category_id=category_id)
    except FormErrors as exc:
        return await _render_index(request, status_code=400, errors=exc.errors,
                                   values=exc.values)
    except catalog.NoSuchItem:
        raise HTTPException(404) from None
    except Refusal as exc:
        return await _render_index(request, status_code=exc.status,
                                   errors={"name": exc.translated()})
    return RedirectResponse(f"{request.url_for('catalog.staff')}?done=category",
                            status_code=303)


async def _choices() -> dict[str, Any]:
    language = i18n.current_language()

    def title(row: Quiz | Course) -> str:
        return row.title.get(language) or next(iter(row.title.values()), str(row.id))

    return {"categories": await Category.all(),
            "quizzes": [(q.id, title(q)) for q in await Quiz.all().order_by("-id")],
            "courses": [(c.id, title(c)) for c in await Course.all().order_by("-id")],
            "kinds": list(ItemKind)}


async def _render_item(request: Request, *, item_id: int | None, status_code: int = 200,
                       **extra: Any) -> Response:
    item = await catalog.staff_item(item_id) if item_id else None
    pool: tuple[list[catalog.PoolRow], bool, dict[str, int]] = ([], False, {})
    page = page_number(request)
    if item is not None and item.kind == ItemKind.CERTIFICATE:
        pool = await catalog.pool(item.id, offset=(page - 1) * 50, limit=50)
    values = extra.pop("values", None) or ({k: getattr(item, k) for k in ItemForm.model_fields}
                                           if item else {"active": True})
    context: dict[str, Any] = {"errors": {}, "code_error": "", "imported": request.query_params
                               .get("imported", "")}
    context.update(extra)
    return render(request, "catalog/staff/item.html", status_code=status_code, item=item,
                  values=values, pool=pool[0], more=pool[1], counts=pool[2], page=page,
                  **await _choices(), **context)


async def item(request: Request) -> Response:
    require_person(request, *STAFF)
    item_id = request.path_params.get("item_id")
    if request.method == "GET":
        try:
            return await _render_item(request, item_id=item_id)
        except catalog.NoSuchItem:
            raise HTTPException(404) from None
    try:
        form, picture = await form_with_picture(request, ItemForm)
        saved = await catalog.save_item(
            catalog.ItemFields(**form.model_dump(), picture=f"/media/{picture}" if picture
                               else ""), item_id=item_id, now=_now())
    except FormErrors as exc:
        return await _render_item(request, item_id=item_id, status_code=400,
                                  errors=exc.errors, values=exc.values)
    except catalog.NoSuchItem:
        raise HTTPException(404) from None
    except Refusal as exc:
        return await _render_item(request, item_id=item_id, status_code=exc.status,
                                  errors={"category_id": exc.translated()},
                                  values=form.model_dump())
    return redirect_after_upload(request, str(request.url_for("catalog.staff_item",
                                                              item_id=saved.id)))


async def upload_codes(request: Request) -> Response:
    require_person(request, *STAFF)
    item_id = request.path_params["item_id"]
    await catalog.staff_item(item_id)  # 404 before reading a large body
    try:
        if int(request.headers.get("content-length") or 0) > codes.MAX_FILE_BYTES + 64 * 1024:
            raise codes.CodeFileRefused(0, i18n.N_("The file is larger than %(most)s MB."),
                                        most=codes.MAX_FILE_BYTES // (1024 * 1024))
        async with request.form(max_files=1, max_fields=3) as form:
            upload = form.get("codes")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise catalog.BadRequest(i18n.N_("Choose a CSV file of codes."))
            data = await upload.read(codes.MAX_FILE_BYTES + 1)
        count = await catalog.import_codes(item_id, data, settings=request.app.state.settings,
                                           now=_now())
    except Refusal as exc:
        return await _render_item(request, item_id=item_id,
                                  status_code=exc.status, code_error=exc.translated())
    return redirect_after_upload(request,
                     f"{request.url_for('catalog.staff_item', item_id=item_id)}?imported={count}")


async def orders(request: Request) -> Response:
    require_person(request, *STAFF)
    return await _render_orders(request)


async def _render_orders(request: Request, *, status_code: int = 200, error: str = ""
                         ) -> Response:
    page = page_number(request)
    status = query_choice(request, "status", OrderStatus,
                          refusal=i18n.gettext("Unknown order state."))
    size = request.app.state.settings.page_size
    rows, more = await catalog.staff_orders(status=status, offset=(page - 1) * size,
                                            limit=size)
    return render(request, "catalog/staff/orders.html", status_code=status_code, orders=rows,
                  more=more, page=page, status=status.value if status else "",
                  states=list(OrderStatus), error=error,
                  query=f"&status={status.value}" if status else "")


async def advance(request: Request) -> Response:
    require_person(request, *STAFF)
    try:
        form = parse_form(AdvanceForm, await request.form())
        await catalog.advance(request.path_params["order_id"], to=form.to, now=_now())
    except FormErrors:
        raise HTTPException(400, i18n.gettext("The form was not understood.")) from None
    except Refusal as exc:
        if exc.status == 404:
            raise HTTPException(404) from None
        return await _render_orders(request, status_code=exc.status, error=exc.translated())
    return RedirectResponse(request.url_for("catalog.staff_orders"), status_code=303)


async def cancel(request: Request) -> Response:
    require_person(request, *STAFF)
    try:
        form = parse_form(CancelForm, await request.form())
        await catalog.cancel(request.path_params["order_id"], reason=form.reason, now=_now())
    except FormErrors as exc:
        return await _render_orders(request, status_code=400, error=next(iter(
            exc.errors.values())))
    except Refusal as exc:
        if exc.status == 404:
            raise HTTPException(404) from None
        return await _render_orders(request, status_code=exc.status, error=exc.translated())
    return RedirectResponse(request.url_for("catalog.staff_orders"), status_code=303)


async def reveals(request: Request) -> Response:
    """Who revealed which order's code, and when: the audit trail, codes masked."""
    require_person(request, *STAFF)
    page = page_number(request)
    size = request.app.state.settings.page_size
    lines, more = await reveal_log(offset=(page - 1) * size, limit=size)
    return render(request, "catalog/staff/reveals.html", lines=lines, page=page, more=more)


async def export(request: Request) -> Response:
    require_person(request, *STAFF)
    rows = await catalog.export_rows()
    return csv_download("catalog-orders.csv", catalog.EXPORT_HEADER, rows)


routes = [
    Route("/marketing/catalog", index, methods=["GET"], name="catalog.staff"),
    Route("/marketing/catalog/categories", save_category, methods=["POST"],
          name="catalog.staff_new_category"),
    Route("/marketing/catalog/categories/{category_id:id}", save_category, methods=["POST"],
          name="catalog.staff_category"),
    Route("/marketing/catalog/items/new", item, methods=["GET", "POST"],
          name="catalog.staff_new_item"),
    Route("/marketing/catalog/items/{item_id:id}", item, methods=["GET", "POST"],
          name="catalog.staff_item"),
    Route("/marketing/catalog/items/{item_id:id}/codes", upload_codes, methods=["POST"],
          name="catalog.staff_codes"),
    Route("/marketing/catalog/orders", orders, methods=["GET"], name="catalog.staff_orders"),
    Route("/marketing/catalog/reveals", reveals, methods=["GET"],
          name="catalog.staff_reveals"),
    Route("/marketing/catalog/orders.csv", export, methods=["GET"],
          name="catalog.staff_export"),
    Route("/marketing/catalog/orders/{order_id:id}/advance", advance, methods=["POST"],
          name="catalog.staff_advance"),
    Route("/marketing/catalog/orders/{order_id:id}/cancel", cancel, methods=["POST"],
          name="catalog.staff_cancel"),
]
