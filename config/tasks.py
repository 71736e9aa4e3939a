from __future__ import annotations

import socket

from celery import shared_task

from config.services import service_heartbeat_record


@shared_task(acks_late=True, ignore_result=True)
def service_heartbeat(name: str) -> None:
    service_heartbeat_record(name=name, detail={"host": socket.gethostname()})
