from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from leads.imports import lead_import_run
from leads.models import Lead, LeadImport, LeadImportError, LeadTransition
from templates_app.models import Template
from tests.leads.conftest import error_fields
from tests.processes import ROOT, subprocess_env, wait_for

HEADER = "phone,customer_name,order_id,order_total\n"


@pytest.fixture
def upload(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST a CSV; with `run`, the import task runs (eagerly) once the upload commits."""

    def post(client: APIClient, content: bytes, *, run: bool = True, **fields: str) -> Any:
        with django_capture_on_commit_callbacks(execute=run):
            return client.post(
                "/api/v1/leads/import",
                {
                    "file": SimpleUploadedFile("leads.csv", content, content_type="text/csv"),
                    "template": "order-confirmation",
                    **fields,
                },
                format="multipart",
            )

    return post


def good_rows(count: int, start: int = 0) -> str:
    return "".join(
        f"+9198{index:08d},Customer {index},A{index},{index} rupees\n"
        for index in range(start, start + count)
    )


def test_good_rows_are_kept_and_bad_rows_reported_by_row_number(
    upload: Callable[..., Any],
    operator_api: APIClient,
) -> None:
    csv_text = (
        HEADER
        + "+919812345678,Asha,A1,10 rupees\n"  # row 2
        + "12345,Ravi,A2,20 rupees\n"  # row 3: bad phone
        + '098123 45679,"Meera, Jr.",,30 rupees\n'  # row 4: order_id missing
        + "+919812345680,Only two\n"  # row 5: short
        + "\n"  # row 6: blank, ignored
        + "+919812345681,名前 🚀,<script>,'; DROP TABLE x;--\n"  # row 7
    )

    response = upload(operator_api, csv_text.encode())

    assert response.status_code == 202, response.content
    import_id = response.json()["id"]
    # Celery runs eagerly in tests, after the upload's transaction committed.
    detail = operator_api.get(f"/api/v1/lead-imports/{import_id}").json()
    assert {key: detail[key] for key in ("status", "total_rows", "processed_rows")} == {
        "status": "completed",
        "total_rows": 6,
        "processed_rows": 6,
    }
    assert (detail["ok_rows"], detail["failed_rows"]) == (2, 3)
    assert detail["row_errors"] == [
        {"row": 3, "field": "phone", "reason": "Not a valid phone number for its country."},
        {"row": 4, "field": "order_id", "reason": "order_id is required by this template"},
        {"row": 5, "field": "row", "reason": "Expected 4 columns, got 2."},
    ]
    leads = list(Lead.objects.order_by("import_row").values_list("import_row", "phone", "payload"))
    assert leads == [
        (
            2,
            "+919812345678",
            {"customer_name": "Asha", "order_id": "A1", "order_total": "10 rupees"},
        ),
        (
            7,
            "+919812345681",
            {
                "customer_name": "名前 🚀",
                "order_id": "<script>",
                "order_total": "'; DROP TABLE x;--",
            },
        ),
    ]
    assert set(LeadTransition.objects.values_list("reason", flat=True)) == {
        f"CSV import {import_id}"
    }


def test_cells_are_read_as_the_variables_type(
    upload: Callable[..., Any], operator_api: APIClient, make_template: Callable[..., Template]
) -> None:
    make_template(
        "typed",
        variables=[
            *(
                {"name": name, "type": "string"}
                for name in ("customer_name", "order_id", "order_total")
            ),
            {"name": "items", "type": "integer", "required": True},
            {"name": "gift", "type": "boolean"},
            {"name": "total", "type": "number"},
        ],
    )
    content = b"phone,items,gift,total\n+919812345678,3,yes,9.5\n+919812345679,three,no,1\n"

    response = upload(operator_api, content, template="typed")

    assert response.status_code == 202
    assert list(Lead.objects.values_list("payload", flat=True)) == [
        {"items": 3, "gift": True, "total": 9.5}
    ]
    assert list(LeadImportError.objects.values_list("row", "field", "reason")) == [
        (3, "items", "items must be an integer")
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"customer_name,order_id\nAsha,A1\n", "The header has no phone column."),
        (b"phone,phone\n+919812345678,+919812345678\n", "The header repeats a column."),
        (
            "phone,kund\xe9\n".encode("latin-1"),
            "The file is not UTF-8 text (line 1).",
        ),
    ],
)
def test_a_file_without_a_usable_header_is_refused_at_upload(
    upload: Callable[..., Any], operator_api: APIClient, content: bytes, message: str
) -> None:
    response = upload(operator_api, content)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == [
        {"field": "file", "code": "invalid", "message": message}
    ]
    assert not LeadImport.objects.exists()


@pytest.mark.parametrize(
    ("tail", "error"),
    [
        (
            "+919812345679,Ravi,A2,caf\xe9\n".encode("latin-1"),
            "The file is not UTF-8 text (line 3).",
        ),
        (
            b'+919812345679,"Ravi,A2,20\n',
            "Malformed CSV at line 3: unexpected end of data.",
        ),
    ],
)
def test_a_file_broken_further_down_fails_before_storing_any_lead(
    upload: Callable[..., Any], operator_api: APIClient, tail: bytes, error: str
) -> None:
    response = upload(operator_api, HEADER.encode() + good_rows(1).encode() + tail)

    assert response.status_code == 202
    lead_import = LeadImport.objects.get()
    assert (lead_import.status, lead_import.error) == ("failed", error)
    assert lead_import.finished_at is not None
    assert not Lead.objects.exists()


def test_a_file_over_the_size_limit_is_refused(
    upload: Callable[..., Any], operator_api: APIClient, settings: LazySettings
) -> None:
    settings.BREEZE_LEADS_IMPORT_MAX_BYTES = 100

    response = upload(operator_api, HEADER.encode() + good_rows(5).encode())

    assert response.status_code == 413
    assert response.json()["error"] == {
        "type": "payload_too_large",
        "message": "file: The file is larger than 100 bytes.",
    }


def test_the_template_and_mode_are_checked_at_upload(
    upload: Callable[..., Any], operator_api: APIClient, make_template: Callable[..., Template]
) -> None:
    make_template("draft", publish=False)

    unknown = upload(operator_api, HEADER.encode(), template="nope")
    draft = upload(operator_api, HEADER.encode(), template="draft")
    bad_mode = upload(operator_api, HEADER.encode(), execution_mode="FAX")
    no_file = operator_api.post(
        "/api/v1/leads/import", {"template": "order-confirmation"}, format="multipart"
    )

    assert error_fields(unknown) == [("template", "not_found")]
    assert error_fields(draft) == [("template", "unpublished")]
    assert error_fields(bad_mode) == [("execution_mode", "invalid_choice")]
    assert error_fields(no_file) == [("file", "required")]


def test_a_spreadsheet_export_with_bom_and_crlf_is_read(
    upload: Callable[..., Any], operator_api: APIClient
) -> None:
    content = "\ufeffphone,customer_name,order_id,order_total\r\n+919812345678,Asha,A1,10\r\n"

    upload(operator_api, content.encode())

    assert list(Lead.objects.values_list("phone", "payload")) == [
        ("+919812345678", {"customer_name": "Asha", "order_id": "A1", "order_total": "10"})
    ]


def test_an_empty_upload_is_refused(upload: Callable[..., Any], operator_api: APIClient) -> None:
    response = upload(operator_api, b"")

    assert error_fields(response) == [("file", "empty")]


def test_a_viewer_may_not_import(
    upload: Callable[..., Any], api: Callable[[str], APIClient], order_template: Template
) -> None:
    response = upload(api("viewer"), HEADER.encode() + good_rows(1).encode())

    assert response.status_code == 403
    assert not LeadImport.objects.exists()


def test_running_a_finished_import_again_changes_nothing(
    upload: Callable[..., Any], operator_api: APIClient
) -> None:
    upload(operator_api, HEADER.encode() + good_rows(3).encode())
    lead_import = LeadImport.objects.get()

    lead_import_run(import_id=lead_import.pk)

    assert Lead.objects.count() == 3
    lead_import.refresh_from_db()
    assert (lead_import.status, lead_import.processed_rows) == ("completed", 3)


def test_a_run_resumes_after_the_last_committed_row(
    upload: Callable[..., Any], operator_api: APIClient, settings: LazySettings
) -> None:
    settings.BREEZE_LEADS_IMPORT_CHUNK_ROWS = 4
    upload(operator_api, (HEADER + good_rows(10)).encode())
    lead_import = LeadImport.objects.get()
    kept = dict(Lead.objects.filter(import_row__lte=5).values_list("import_row", "pk"))
    # As a run that died after its first chunk (rows 2 to 5) would have left it.
    Lead.objects.filter(import_row__gt=5).delete()
    LeadImport.objects.filter(pk=lead_import.pk).update(
        status="running", processed_rows=4, ok_rows=4, finished_at=None
    )

    lead_import_run(import_id=lead_import.pk)

    lead_import.refresh_from_db()
    assert (lead_import.status, lead_import.processed_rows, lead_import.ok_rows) == (
        "completed",
        10,
        10,
    )
    assert list(Lead.objects.order_by("import_row").values_list("import_row", flat=True)) == list(
        range(2, 12)
    )
    assert dict(Lead.objects.filter(import_row__lte=5).values_list("import_row", "pk")) == kept


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_mid_way_resumes_without_duplicates(
    order_template: Template, media_root: Path, tmp_path: Path
) -> None:
    rows = 40_000
    content = HEADER + good_rows(rows - 1) + "bad,Ravi,A,1\n"
    lead_import = LeadImport(
        merchant_id=order_template.merchant_id,
        template=order_template,
        execution_mode="TELEPHONY",
        created_by="user:operator-acme",
    )
    lead_import.file.save("leads.csv", ContentFile(content.encode()))
    log = tmp_path / "import.log"
    env = subprocess_env(MEDIA_ROOT=str(media_root), BREEZE_LEADS_IMPORT_CHUNK_ROWS="500")
    code = f"from leads.imports import lead_import_run; lead_import_run(import_id={lead_import.pk})"
    with log.open("wb") as output:
        child = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(
                lambda: LeadImport.objects.filter(
                    pk=lead_import.pk, processed_rows__gte=2_000
                ).first(),
                timeout=60,
                what="the child to commit a few chunks",
                log=log,
            )
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait()
    lead_import.refresh_from_db()
    assert lead_import.status == "running"
    assert 2_000 <= lead_import.processed_rows < rows
    assert Lead.objects.count() == lead_import.ok_rows == lead_import.processed_rows

    lead_import_run(import_id=lead_import.pk)

    lead_import.refresh_from_db()
    assert (lead_import.status, lead_import.total_rows, lead_import.processed_rows) == (
        "completed",
        rows,
        rows,
    )
    assert (lead_import.ok_rows, lead_import.failed_rows) == (rows - 1, 1)
    assert Lead.objects.count() == rows - 1
    assert Lead.objects.values("import_row").distinct().count() == rows - 1
    assert LeadTransition.objects.count() == rows - 1
    assert list(LeadImportError.objects.values_list("row", "field")) == [(rows + 1, "phone")]
