"""The 双随机 spot-check draw (random targets, random inspectors): the pure draw from a secret
(``draw``), the commitment, the secret and the verifier (``commit``) and ``qingliu sample
verify`` (``cli``). The effectiveness_check flow draws through them
(``handlers.flows.effectiveness_check``)."""
