"""Optional parts of a world (services, datasets), one module each;
``harness.world.state.COMPONENTS`` finds them by importing every module here."""
