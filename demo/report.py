"""The demo's report chart: the editor's `/report` chart of its main article, written to a PNG.

The chart is the one `/report` sends (`bot.reports.charts.article_chart`), drawn from the same
numbers (`storage.engagement.article_engagement`); the demo prints where the file is.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bot.reports.charts import article_chart
from storage import engagement
from storage.engine import Database

CHART_NAME = "report-article-{id}.png"


def chart_folder(db_path: Path | None) -> Path:
    """Beside the demo's database when one was given; else a folder of its own under the
    system's temporary directory, which outlives the demo's (removed when the demo ends)."""
    if db_path is not None:
        return db_path.parent
    return Path(tempfile.mkdtemp(prefix="newsdesk-demo-report-"))


async def write_report_chart(db: Database, *, article_id: int, folder: Path) -> Path | None:
    """Write the article's report chart to `folder`; None when there is nothing to plot yet."""
    async with db.transaction() as session:
        numbers = await engagement.article_engagement(
            session, article_id=article_id, clicks_tracked=False
        )
    if numbers is None:
        return None
    # matplotlib is CPU-bound: drawn off the event loop, as the bot draws it.
    png = await asyncio.to_thread(article_chart, numbers)
    if png is None:
        return None
    path = folder / CHART_NAME.format(id=article_id)
    await asyncio.to_thread(path.write_bytes, png)
    return path
