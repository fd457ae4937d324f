"""The two clients: :class:`Tarefa` (blocking) and :class:`AsyncTarefa` (asyncio).

Both expose the same resources with the same methods; the async one's methods return
coroutines. Authenticate with an API key (``tfk_…``) or a JWT your backend signs (a string, or a
callable returning a fresh one per request)::

    from tarefa import Tarefa
    t = Tarefa(base_url="http://127.0.0.1:8080", api_key="tfk_…")
    job = t.jobs.enqueue("diag.noop", {})
    assert t.jobs.wait(job.id, timeout=30).status == "succeeded"
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import httpx

from . import resources as r
from ._transport import DEFAULT_TIMEOUT, AsyncTransport, SyncTransport


class _Resources:
    def _mount(self, t: Any) -> None:
        self.jobs = r.Jobs(t)
        self.queues = r.Queues(t)
        self.health = r.Health(t)
        self.audit = r.Audit(t)
        self.keys = r.Keys(t)
        self.schedules = r.Schedules(t)
        self.notifications = r.Notifications(t)
        self.notification_channels = r.NotificationChannels(t)
        self.notification_templates = r.NotificationTemplates(t)
        self.notification_opt_outs = r.NotificationOptOuts(t)
        self.notification_policy = r.NotificationPolicy(t)
        self.notification_notices = r.NotificationNotices(t)
        self.academic = r.Academic(t)
        self.alert_rules = r.AlertRules(t)
        self.alerts = r.Alerts(t)
        self.documents = r.Documents(t)
        self.payments = r.Payments(t)
        self.events = r.Events(t)
        self.reminder_rules = r.ReminderRules(t)
        self.contacts = r.Contacts(t)
        self.whatsapp_templates = r.WhatsAppTemplates(t)
        self.campaigns = r.Campaigns(t)
        self.datasets = r.Datasets(t)
        self.models = r.Models(t)
        self.predictions = r.Predictions(t)
        self.reports = r.Reports(t)
        self.batches = r.Batches(t)


class Tarefa(_Resources):
    """Blocking client. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080",
        *,
        api_key: str | None = None,
        token: str | Callable[[], str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._transport = SyncTransport(base_url, api_key=api_key, token=token, timeout=timeout,
                                        max_retries=max_retries, headers=headers,
                                        http_client=http_client)
        self._transport.is_async = False  # type: ignore[attr-defined]
        self._mount(self._transport)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "Tarefa":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncTarefa(_Resources):
    """asyncio client: ``async with AsyncTarefa(...) as t: job = await t.jobs.enqueue(...)``."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080",
        *,
        api_key: str | None = None,
        token: str | Callable[[], str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._transport = AsyncTransport(base_url, api_key=api_key, token=token, timeout=timeout,
                                         max_retries=max_retries, headers=headers,
                                         http_client=http_client)
        self._transport.is_async = True  # type: ignore[attr-defined]
        self._mount(self._transport)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> "AsyncTarefa":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
