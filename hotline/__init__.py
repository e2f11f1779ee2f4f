"""The 95598 service centre: what happens between a customer's contact and the field.

It will hold callers (recognition by phone or account), call records from the telephony
integration, tickets for the hotline's non-fault business (consultations, complaints, reports
of misconduct, suggestions) routed to departments on working-day clocks, the bilingual
knowledge base, the centre's statistics and reports, call forecasts, agent staffing and
per-region quotas. It sits above ``dispatch`` (the centre files reports through the intake and
forwards work orders); nothing below imports it.
"""
