"""``stormdesk ring``: a simulated call rings the desk (the demo's telephony system)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from geo.cluster import ensure_database
from geo.database import make_engine
from geo.exceptions import StormdeskError
from scenarios.desk_demo import ring_demo_call
from web.settings import Settings

console = Console()


def ring(
    phone: Annotated[
        str | None,
        typer.Option(help="The calling number; default: a caller inside the largest outage."),
    ] = None,
    base_url: Annotated[
        str, typer.Option(help="Where `stormdesk demo` serves, for the link printed.")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Ring the hotline desk with a call, as the telephony system (CTI) would."""
    settings = Settings()
    engine = make_engine(ensure_database(settings))
    try:
        with Session(engine) as session, session.begin():
            call = ring_demo_call(
                session=session,
                now=dt.datetime.now(dt.UTC),
                phone_region=settings.phone_region,
                phone=phone,
            )
            number, call_id = call.caller_number, call.id
    except StormdeskError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(code=2) from exc
    finally:
        engine.dispose()
    console.print(
        f"Call {call_id} from {number} is ringing: answer it at {base_url.rstrip('/')}/desk "
        "(log in as agent / agent-demo-pass, then Alt+A)."
    )
