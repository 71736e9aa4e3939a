"""One call, one Langfuse trace: opened when the worker starts the call, closed at its end.

Its id comes from the Call row (client.call_langfuse_trace_id), so the post-call scores
find the same trace later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async

from calls.langfuse.client import call_langfuse_trace_id, langfuse_client, langfuse_project_for
from calls.langfuse.observer import LangfuseTurnObserver
from calls.models import Call

if TYPE_CHECKING:
    from langfuse import Langfuse, LangfuseSpan

    from calls.voice.pipeline import CallSession

logger = logging.getLogger(__name__)


def _metadata(call: Call) -> dict[str, Any]:
    version = call.template_version
    return {
        "call_id": call.pk,
        "lead_id": call.lead_id,
        "merchant": version.template.merchant.slug,
        "template": version.template.slug,
        "template_version": version.number,
        "provider": call.provider,
        "execution_mode": call.execution_mode,
    }


@dataclass
class CallLangfuse:
    call_id: int
    client: Langfuse
    root: LangfuseSpan
    observer: LangfuseTurnObserver

    def close(self, *, disposition: str, end_reason: str) -> None:
        """End the trace and send what is buffered (the worker exits after the call)."""
        self.observer.close()
        outcome = Call.objects.filter(pk=self.call_id).values_list("outcome", flat=True).first()
        self.root.update(
            output={"disposition": disposition, "end_reason": end_reason, "outcome": outcome},
            metadata={"llm_turns": self.observer.generations},
        )
        self.root.end()
        self.client.flush()


def call_langfuse_open(*, call_id: int, current_node: Callable[[], str]) -> CallLangfuse | None:
    """Start the call's trace if its merchant (or the platform) has Langfuse keys."""
    call = Call.objects.select_related("template_version__template__merchant").get(pk=call_id)
    project = langfuse_project_for(merchant_id=call.merchant_id)
    if project is None:
        return None
    from langfuse import propagate_attributes  # only with a project: see client.py

    client = langfuse_client(project)
    metadata = _metadata(call)
    template = metadata["template"]
    # Trace-level attributes travel in the context to the root and each generation under it.
    with propagate_attributes(
        trace_name=f"call {template}",
        session_id=f"lead-{call.lead_id}" if call.lead_id else f"call-{call.pk}",
        tags=[template, call.provider, call.execution_mode],
        metadata={key: str(value) for key, value in metadata.items() if value is not None},
        version=str(metadata["template_version"]),
    ):
        root = client.start_observation(
            trace_context={
                "trace_id": call_langfuse_trace_id(call_id=call.pk, traceparent=call.traceparent)
            },
            name="call",
            as_type="span",
            input={"payload_keys": sorted(call.payload)},
            metadata=metadata,
        )
    logger.info("call %s: Langfuse trace %s", call.pk, root.trace_id)
    return CallLangfuse(
        call_id=call.pk,
        client=client,
        root=root,
        observer=LangfuseTurnObserver(root=root, current_node=current_node),
    )


async def call_langfuse_attach(session: CallSession, *, call_id: int) -> CallLangfuse | None:
    """In the worker, before the pipeline runs: the call's trace, observing its LLM turns."""
    runtime = session.runtime
    opened = await sync_to_async(call_langfuse_open)(
        call_id=call_id, current_node=lambda: runtime.current_node
    )
    if opened is not None:
        session.worker.add_observer(opened.observer)
    return opened


async def call_langfuse_finish(
    opened: CallLangfuse | None, *, disposition: str, end_reason: str
) -> None:
    if opened is not None:
        await sync_to_async(opened.close)(disposition=disposition, end_reason=end_reason)
