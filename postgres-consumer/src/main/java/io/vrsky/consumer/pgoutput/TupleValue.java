package io.vrsky.consumer.pgoutput;

import java.util.Arrays;
import java.util.Objects;

/** One column value of a {@link TupleData}: null ('n'), unchanged TOAST ('u'), text ('t') or binary ('b'). */
public sealed interface TupleValue {

    Null NULL = new Null();
    UnchangedToast UNCHANGED_TOAST = new UnchangedToast();

    record Null() implements TupleValue {
    }

    /** The value is stored out of line and did not change; pgoutput does not send it. */
    record UnchangedToast() implements TupleValue {
    }

    /** The value in the type's text output format. */
    record Text(String text) implements TupleValue {
        public Text {
            Objects.requireNonNull(text, "text");
        }
    }

    /** The value in the type's binary format (only with the {@code binary} option, which we do not request). */
    record Binary(byte[] bytes) implements TupleValue {
        public Binary {
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Binary b && Arrays.equals(bytes, b.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Binary[" + bytes.length + " bytes]";
        }
    }
}
