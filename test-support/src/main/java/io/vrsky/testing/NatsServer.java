package io.vrsky.testing;

/** A nats-server with JetStream for integration tests. */
public final class NatsServer {

    private final String url;
    private final ServerControl control;

    NatsServer(String url, ServerControl control) {
        this.url = url;
        this.control = control;
    }

    public String url() {
        return url;
    }

    public boolean controllable() {
        return control.controllable();
    }

    /** Kills the server (SIGKILL); JetStream data stays in its store directory. */
    public void crash() {
        control.stop();
    }

    /** Starts it again on the same port and store. */
    public void start() {
        control.start();
    }
}
