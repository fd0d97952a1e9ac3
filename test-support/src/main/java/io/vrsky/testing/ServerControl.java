package io.vrsky.testing;

/** Stop and start of a server a test may crash on purpose. */
interface ServerControl {
    boolean controllable();

    void stop();

    void start();

    ServerControl NONE = new ServerControl() {
        @Override
        public boolean controllable() {
            return false;
        }

        @Override
        public void stop() {
            throw new UnsupportedOperationException("this server was given by URL and cannot be stopped by tests");
        }

        @Override
        public void start() {
            throw new UnsupportedOperationException("this server was given by URL and cannot be started by tests");
        }
    };
}
