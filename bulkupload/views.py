"""The bulk upload wizard: upload, map columns, tags, review, then progress and result."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from bulkupload import csvfile, services, undoing
from bulkupload.csvfile import CsvRefused
from bulkupload.forms import FileFormatForm, MappingForm, TagCreateForm, TagsForm, UploadForm
from bulkupload.mapping import RowPlanner
from bulkupload.models import UploadJob, UploadUndo
from contacts.csv_cells import csv_lines
from contacts.fields import field_registry
from contacts.http import HtmxHttpRequest
from contacts.models import Tag, tag_key
from contacts.services import ContactInputError, tag_create

UPLOAD = "contacts.upload_contacts"
PREVIEW_ROWS = 8
STEP_URLS = {
    UploadJob.Step.MAP: "bulkupload:map",
    UploadJob.Step.TAGS: "bulkupload:tags",
    UploadJob.Step.REVIEW: "bulkupload:review",
}


def _job_url(job: UploadJob) -> str:
    if job.status == UploadJob.Status.DRAFT:
        return reverse(STEP_URLS[job.step], args=[job.pk])
    return reverse("bulkupload:job", args=[job.pk])


def _draft(pk: int) -> UploadJob:
    return get_object_or_404(UploadJob.objects.select_related("created_by", "undo"), pk=pk)


def _stored_head(job: UploadJob) -> services.Inspection | None:
    """The file's first rows, or None when the file is no longer stored."""
    if job.file_removed_at:
        return None
    try:
        return services.upload_job_head(job)
    except FileNotFoundError:
        return None


def _file_gone(request: HtmxHttpRequest, job: UploadJob) -> HttpResponse:
    """A draft whose file is no longer stored cannot go on: say so, offer a new upload."""
    when = f" (removed on {job.file_removed_at:%Y-%m-%d})" if job.file_removed_at else ""
    messages.error(
        request,
        f"The file of “{job.display_name}” is no longer stored{when}, so this upload cannot "
        "go on: upload the file again.",
    )
    url = reverse("bulkupload:new")
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_GET
@permission_required(UPLOAD, raise_exception=True)
def upload_list(request: HtmxHttpRequest) -> HttpResponse:
    jobs = list(UploadJob.objects.select_related("created_by", "undo")[:100])
    for job in jobs:
        job.url = _job_url(job)
    return render(request, "bulkupload/upload_list.html", {"jobs": jobs})


@require_http_methods(["GET", "POST"])
@permission_required(UPLOAD, raise_exception=True)
def upload_new(request: HtmxHttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        try:
            job = services.upload_job_create(user=request.user, file=file, name=file.name)
        except CsvRefused as exc:
            form.add_error("file", f"{file.name} was refused: {exc}.")
        else:
            return redirect("bulkupload:map", pk=job.pk)
    return render(request, "bulkupload/upload_new.html", {"form": form, "step": 1})


def _preview(job: UploadJob, form: MappingForm, rows: list[list[str]]) -> dict:
    mapping = form.draft_mapping()
    planner = RowPlanner(
        mapping, form.registry, list_separator=job.list_separator, for_preview=True
    )
    shown = [i for i, entry in enumerate(mapping) if entry["kind"] != "skip"]
    preview = []
    for offset, cells in enumerate(rows[:PREVIEW_ROWS]):
        planned = planner.plan_reference(cells)
        preview.append(
            {
                "number": offset + 2,
                "cells": [
                    {
                        "raw": cells[i] if i < len(cells) else "",
                        "value": planned.cell_values.get(i, ""),
                        "error": planned.cell_errors.get(i, ""),
                    }
                    for i in shown
                ],
                "ok": not planned.errors,
            }
        )
    return {"headers": [job.headers[i] for i in shown], "rows": preview}


@require_http_methods(["GET", "POST"])
@permission_required(UPLOAD, raise_exception=True)
def upload_map(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = _draft(pk)
    if job.status != UploadJob.Status.DRAFT:
        return redirect(_job_url(job))
    if (head := _stored_head(job)) is None:
        return _file_gone(request, job)
    registry = field_registry()
    data = request.POST if request.method == "POST" else None
    form = MappingForm(data, job=job, registry=registry, rows=head.rows)
    if request.method == "POST" and form.is_valid():
        services.upload_job_set_mapping(
            job=job,
            mapping=form.cleaned_data["mapping"],
            list_separator=form.cleaned_data["list_separator"],
        )
        return redirect("bulkupload:tags", pk=job.pk)
    context = {
        "job": job,
        "form": form,
        "format_form": FileFormatForm(initial=FileFormatForm.initial_for(job)),
        "encoding_label": csvfile.ENCODINGS.get(job.encoding, job.encoding),
        "delimiter_label": csvfile.DELIMITERS.get(job.delimiter, job.delimiter),
        "preview": _preview(job, form, head.rows),
        "step": 2,
    }
    return render(request, "bulkupload/upload_map.html", context)


@require_POST
@permission_required(UPLOAD, raise_exception=True)
def upload_map_preview(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = _draft(pk)
    if (head := _stored_head(job)) is None:
        return _file_gone(request, job)
    form = MappingForm(request.POST, job=job, registry=field_registry(), rows=head.rows)
    context = {"job": job, "preview": _preview(job, form, head.rows)}
    return render(request, "bulkupload/upload_map.html#preview", context)


@require_POST
@permission_required(UPLOAD, raise_exception=True)
def upload_map_format(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = _draft(pk)
    if job.file_removed_at:
        return _file_gone(request, job)
    form = FileFormatForm(request.POST)
    if form.is_valid() and job.status == UploadJob.Status.DRAFT:
        try:
            services.upload_job_set_format(
                job=job,
                encoding=form.cleaned_data["encoding"],
                delimiter=form.cleaned_data["delimiter"],
            )
        except FileNotFoundError:
            return _file_gone(request, job)
        except (CsvRefused, UnicodeDecodeError) as exc:
            messages.error(request, f"Those settings do not read this file: {exc}")
        else:
            messages.success(request, "File settings changed; columns read again.")
    return redirect("bulkupload:map", pk=job.pk)


@require_http_methods(["GET", "POST"])
@permission_required(UPLOAD, raise_exception=True)
def upload_tags(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = _draft(pk)
    if job.status != UploadJob.Status.DRAFT:
        return redirect(_job_url(job))
    if job.file_removed_at:
        return _file_gone(request, job)
    form = TagsForm(request.POST or None, initial={"tags": job.tag_ids})
    if request.method == "POST" and form.is_valid():
        services.upload_job_set_tags(job=job, tags=form.cleaned_data["tags"])
        return redirect("bulkupload:review", pk=job.pk)
    chosen = list(Tag.objects.filter(pk__in=job.tag_ids))
    context = {
        "job": job,
        "form": form,
        "default_tags": list(Tag.objects.filter(is_default=True)),
        "chosen_custom": [t for t in chosen if not t.is_default],
        "chosen_ids": {t.pk for t in chosen},
        "create_form": TagCreateForm(),
        "step": 3,
    }
    return render(request, "bulkupload/upload_tags.html", context)


@require_GET
@permission_required(UPLOAD, raise_exception=True)
def tag_search(request: HtmxHttpRequest) -> HttpResponse:
    query = tag_key(request.GET.get("q", ""))
    tags = Tag.objects.filter(is_default=False)
    if query:
        tags = tags.filter(name_key__contains=query)
    context = {"tags": list(tags[:30]), "query": query}
    return render(request, "bulkupload/upload_tags.html#tag-results", context)


@require_GET
@permission_required(UPLOAD, raise_exception=True)
def tag_chip(request: HtmxHttpRequest, tag_id: int) -> HttpResponse:
    tag = get_object_or_404(Tag, pk=tag_id)
    return render(request, "bulkupload/upload_tags.html#tag-chip", {"tag": tag})


@require_POST
@permission_required(UPLOAD, raise_exception=True)
@permission_required("contacts.add_tag", raise_exception=True)
def tag_new(request: HtmxHttpRequest) -> HttpResponse:
    form = TagCreateForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            tag = tag_create(name=form.cleaned_data["name"])
        except ContactInputError as exc:
            error = exc.message
        else:
            return render(request, "bulkupload/upload_tags.html#tag-chip", {"tag": tag})
    else:
        error = "; ".join(e for errors in form.errors.values() for e in errors)
    response = HttpResponse(escape(f"Tag: {error}") if error else "")
    return reswap(retarget(response, "#tag-create-error"), "innerHTML")


@require_http_methods(["GET", "POST"])
@permission_required(UPLOAD, raise_exception=True)
def upload_review(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = _draft(pk)
    if job.status != UploadJob.Status.DRAFT:
        return redirect(_job_url(job))
    if (head := _stored_head(job)) is None:
        return _file_gone(request, job)
    if request.method == "POST":
        try:
            services.upload_job_confirm(job=job, user=request.user)
        except ContactInputError as exc:
            messages.error(request, f"Could not create the new fields: {exc.message}")
            return redirect("bulkupload:map", pk=job.pk)
        return redirect("bulkupload:job", pk=job.pk)
    registry = field_registry()
    mapping = [
        {
            "header": header,
            "entry": entry,
            "field": registry.get(entry.get("key", "")) if entry["kind"] == "field" else None,
        }
        for header, entry in zip(job.headers, job.column_mapping, strict=False)
    ]
    context = {
        "job": job,
        "mapping": mapping,
        "new_fields": [m["entry"] for m in mapping if m["entry"]["kind"] == "new"],
        "tags": list(Tag.objects.filter(pk__in=job.tag_ids)),
        "estimate": services.upload_job_estimate(job, head),
        "encoding_label": csvfile.ENCODINGS.get(job.encoding, job.encoding),
        "delimiter_label": csvfile.DELIMITERS.get(job.delimiter, job.delimiter),
        "step": 4,
    }
    return render(request, "bulkupload/upload_review.html", context)


def _time_left(job: UploadJob) -> timedelta | None:
    if job.status != UploadJob.Status.RUNNING or not job.started_at or not job.done:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    rate = job.done / max(elapsed, 0.001)
    return timedelta(seconds=round(max(0, job.total - job.done) / rate))


@require_GET
@permission_required(UPLOAD, raise_exception=True)
def upload_job(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """An import's progress and result (polled while it runs).

    A read only: a stalled import is resumed by the workers or ``manage.py resume_jobs``.
    """
    job = _draft(pk)
    if job.status == UploadJob.Status.DRAFT:
        return redirect(_job_url(job))
    context = {"job": job, "time_left": _time_left(job)}
    if request.htmx:
        return render(request, "bulkupload/upload_job.html#progress", context)
    return render(request, "bulkupload/upload_job.html", context)


@require_POST
@permission_required(UPLOAD, raise_exception=True)
def upload_cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = services.upload_job_cancel(job=_draft(pk))
    if request.htmx:
        context = {"job": job, "time_left": _time_left(job)}
        return render(request, "bulkupload/upload_job.html#progress", context)
    return redirect("bulkupload:job", pk=job.pk)


KEPT_SHOWN = 100


@require_http_methods(["GET", "POST"])
@permission_required(UPLOAD, raise_exception=True)
def upload_undo(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The undo of an upload: a preview of the counts, confirmed by a POST; then its
    progress (polled while it runs) and what it kept."""
    job = _draft(pk)
    if request.method == "POST":
        try:
            undoing.upload_undo_start(upload=job, user=request.user)
        except undoing.UndoRefused as exc:
            messages.error(request, str(exc))
        return redirect("bulkupload:undo", pk=job.pk)
    undo = UploadUndo.objects.filter(upload=job).first()
    context = {
        "job": job,
        "undo": undo,
        "refusal": undoing.upload_undo_refusal(job) if undo is None else None,
        "kept": list(undo.kept.all()[:KEPT_SHOWN]) if undo else [],
        "kept_shown": KEPT_SHOWN,
    }
    if undo is None and context["refusal"] is None:
        context["preview"] = undoing.upload_undo_preview(job)
    if request.htmx and undo is not None:
        return render(request, "bulkupload/upload_undo.html#undo-progress", context)
    return render(request, "bulkupload/upload_undo.html", context)


@require_GET
@permission_required(UPLOAD, raise_exception=True)
def upload_error_report(request: HtmxHttpRequest, pk: int) -> StreamingHttpResponse:
    job = _draft(pk)
    lines = csv_lines(services.error_report_rows(job))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = job.display_name.rsplit(".", 1)[0] or "upload"
    response["Content-Disposition"] = f'attachment; filename="{name}-errors.csv"'
    return response
