"""Device and variability parameters are validated in the dataclasses (issue 13).

Negative or absurd parameters used to be accepted and gave negative or infinite energies; each
bad value must be a one-line ValueError naming the class and field.
"""

import pytest

from memsim import LinearIonDrift, VTEAM, CaravelliTraversaDiVentra, MetastableSwitch, Variability
from memsim.devices.models import Resistor


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Resistor(-1.0), "Resistor.resistance"),
        (lambda: Resistor(1e300), "Resistor.resistance"),
        (lambda: LinearIonDrift(r_on=-100.0), "LinearIonDrift.r_on"),
        (lambda: LinearIonDrift(window="joglekar", p=1000.0), "LinearIonDrift.p"),
        (lambda: LinearIonDrift(mu_v=-1e-14), "LinearIonDrift.mu_v"),
        (lambda: VTEAM(alpha_on=1e6), "VTEAM.alpha_on"),
        (lambda: VTEAM(r_off=1e20), "VTEAM.r_off"),
        (lambda: VTEAM(p=100.0), "VTEAM.p"),
        (lambda: CaravelliTraversaDiVentra(beta=-1.0), "CaravelliTraversaDiVentra.beta"),
        (lambda: MetastableSwitch(v_on=-0.27), "MetastableSwitch.v_on"),
        (lambda: MetastableSwitch(v_off=-0.27), "MetastableSwitch.v_off"),
        (lambda: MetastableSwitch(temperature=1e9), "MetastableSwitch.temperature"),
        (lambda: Variability(c2c=1e308), "Variability.c2c"),
        (lambda: Variability(d2d=6.0), "Variability.d2d"),
    ],
)
def test_out_of_range_parameters_name_the_field(make, field):
    with pytest.raises(ValueError) as exc:
        make()
    msg = str(exc.value)
    assert msg.startswith(field) and "\n" not in msg


def test_published_defaults_are_in_range():
    for dev in (LinearIonDrift(), LinearIonDrift(window="prodromakis", p=2.5), VTEAM(), VTEAM(p=1.0),
                CaravelliTraversaDiVentra(), MetastableSwitch(), MetastableSwitch(n_switches=100)):
        assert dev.pack().shape == (10,)
