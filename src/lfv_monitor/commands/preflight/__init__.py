"""``lfv-monitor doctor``'s checks: ``checks`` judges facts (pure), ``probes`` gathers them."""
