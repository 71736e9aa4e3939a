"""What a warm transfer's agent hears before joining the customer.

Who is calling, the outcome so far and the customer's last words, from what the worker has
written to the call.
"""

from __future__ import annotations

from calls.models import Call, Turn

LAST_CUSTOMER_TURNS = 3


def call_agent_summary(*, call: Call) -> str:
    parts = [f"Transferred call from {' '.join(call.customer_phone.removeprefix('+'))}."]
    if call.outcome:
        fields = ", ".join(f"{name} {value}" for name, value in sorted(call.outcome_fields.items()))
        parts.append(f"Outcome so far: {call.outcome}" + (f", {fields}." if fields else "."))
    said = list(
        Turn.objects.filter(call=call, speaker=Turn.Speaker.CUSTOMER)
        .order_by("-index")
        .values_list("text", flat=True)[:LAST_CUSTOMER_TURNS]
    )
    if said:
        parts.append("The customer said: " + " ... ".join(reversed(said)) + ".")
    return " ".join(parts)
