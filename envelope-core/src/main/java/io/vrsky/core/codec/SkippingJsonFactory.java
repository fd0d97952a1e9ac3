package io.vrsky.core.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.json.UTF8StreamJsonParser;
import com.fasterxml.jackson.core.sym.ByteQuadsCanonicalizer;

import java.io.IOException;
import java.util.Arrays;

/**
 * A copy of a {@link JsonFactory} whose parsers over a byte array of UTF-8 JSON can step over a
 * run of bytes the caller has seen before ({@link SkippingParser#skipIfRepeated}) without
 * tokenizing it. postgres-consumer's envelopes repeat each table's column list in every change;
 * tokenizing it again took about a quarter of the producer's decoding time.
 *
 * <p>Anything that is not a plain UTF-8 byte array starting with an object (a byte-order mark,
 * another encoding, a stream) gets Jackson's own parser.
 */
final class SkippingJsonFactory extends JsonFactory {

    private static final long serialVersionUID = 1L;

    SkippingJsonFactory(JsonFactory settings, ObjectCodec codec) {
        super(settings, codec);
    }

    @Override
    protected JsonParser _createParser(byte[] data, int offset, int len, IOContext ctxt) throws IOException {
        if (len < 1 || data[offset] != '{' || _inputDecorator != null) {
            return super._createParser(data, offset, len, ctxt);
        }
        return new SkippingParser(ctxt, _parserFeatures, _objectCodec, _byteSymbolCanonicalizer.makeChildOrPlaceholder(_factoryFeatures),
                data, offset, offset + len);
    }

    /** Jackson's UTF-8 parser over a whole byte array, with {@link #skipIfRepeated}. */
    static final class SkippingParser extends UTF8StreamJsonParser {

        SkippingParser(IOContext ctxt, int features, ObjectCodec codec, ByteQuadsCanonicalizer symbols, byte[] data, int start,
                       int end) {
            super(ctxt, features, null, codec, symbols, data, start, end, 0, false);
        }

        /**
         * When the current token is the start of an array or object whose JSON text is exactly
         * {@code known} (the whole value, brackets included), moves past it as if it had been read
         * token by token and returns true: the current token is then its end (END_ARRAY or
         * END_OBJECT). Otherwise changes nothing and returns false.
         */
        boolean skipIfRepeated(byte[] known) throws IOException {
            JsonToken t = currentToken();
            int n = known.length;
            if ((t != JsonToken.START_ARRAY && t != JsonToken.START_OBJECT) || n < 2 || _inputBuffer == null) {
                return false;
            }
            int start = _inputPtr - 1; // the opening bracket was the last byte read
            if (start < 0 || _inputBuffer[start] != known[0] || start + n > _inputEnd
                    || !Arrays.equals(_inputBuffer, start, start + n, known, 0, n)) {
                return false;
            }
            _inputPtr = start + n - 1; // at the closing bracket: the next token closes the value's scope
            JsonToken end = nextToken();
            if (end != (t == JsonToken.START_ARRAY ? JsonToken.END_ARRAY : JsonToken.END_OBJECT)) {
                throw new IllegalStateException("skipped to " + end + ", not the end of the value"); // known was not one whole value
            }
            return true;
        }

        /**
         * When the current token is a number and the bytes right after it are exactly {@code known}
         * (the rest of a run of fields, e.g. <code>,"a":"x","b":"y"</code>), moves past them and
         * returns true: the next token is whatever follows. Otherwise changes nothing and returns false.
         */
        boolean skipIfFollowedBy(byte[] known) {
            int n = known.length;
            if (currentToken() != JsonToken.VALUE_NUMBER_INT || n == 0 || _inputBuffer == null || _inputPtr + n > _inputEnd
                    || !Arrays.equals(_inputBuffer, _inputPtr, _inputPtr + n, known, 0, n)) {
                return false;
            }
            _inputPtr += n;
            return true;
        }

        /** The offset in the byte array of the next byte to read (after the current token, once it is read whole). */
        int position() {
            return _inputPtr;
        }
    }
}
