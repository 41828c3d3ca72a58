"""The WhatsApp channel for families (Cloud API): webhook in, family core, messages out."""
