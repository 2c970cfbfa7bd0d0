"""refdesk services: one package per service (queue, chat, tickets, analytics), each
exporting ``SPEC`` (a :class:`refdesk.service.ServiceSpec`) and runnable with
``python -m services.<name>``."""
