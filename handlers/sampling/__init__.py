"""The 双随机 spot-check draw (random targets, random inspectors): the pure, re-playable draw
(``draw``) and ``qingliu sample redraw`` (``cli``). The effectiveness_check flow draws through
it (``handlers.flows.effectiveness_check``)."""
