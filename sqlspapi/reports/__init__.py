"""The report lifecycle, outside SQL: reuse or request a report, wait for it, download and keep its document.

- :mod:`sqlspapi.reports.state` — what survives the process: the ledger of reports requested per account (so the
  next identical query resumes a report instead of requesting another) and the bounded on-disk document cache;
- :mod:`sqlspapi.reports.jobs` — what a job is: the operations and answer fields of an asynchronous-document API,
  the request naming a job (:class:`~sqlspapi.reports.jobs.ReportRequest`), the finished job;
- :mod:`sqlspapi.reports.lifecycle` — :class:`~sqlspapi.reports.lifecycle.ReportService`: reuse (ledger, then
  getReports), createReport, getReport polls with backoff, FATAL/CANCELLED, getReportDocument (with a Restricted
  Data Token for restricted types) and the streamed download.

Decoding the document (charsets, gzip, headers, values) is :mod:`sqlspapi.documents`; the SQL side is the
``report`` route (:mod:`sqlspapi.sql.routes.report`).
"""
