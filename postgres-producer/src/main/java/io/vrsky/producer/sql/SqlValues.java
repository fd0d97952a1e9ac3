package io.vrsky.producer.sql;

import com.fasterxml.jackson.databind.JsonNode;
import io.vrsky.producer.catalog.ColumnKind;
import io.vrsky.producer.catalog.ColumnMeta;

import java.util.Base64;
import java.util.HexFormat;

/**
 * Turns the JSON values of DESIGN.md's wire format into the text each column's input function
 * reads; the SQL then casts the bound text parameter to the column's type
 * ({@code ?::numeric}, {@code ?::timestamptz}, an enum, ...). Values are never put into SQL text.
 *
 * <ul>
 *   <li>JSON null (or a missing value) stays SQL NULL.</li>
 *   <li>Numbers, strings and booleans: their text; so numeric keeps its exact digits, floats
 *       accept {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}, timestamps their ISO-8601 text.</li>
 *   <li>bytea: base64 on the wire, sent as {@code \x} hex; invalid base64 is rejected.</li>
 *   <li>json/jsonb: a JSON string is the document's text, written as it is (so json keeps its
 *       spacing and duplicate keys, and the document {@code null}, the string "null", differs from
 *       SQL NULL, JSON null); an embedded object, array, number or boolean (other publishers) is
 *       written as its JSON text.</li>
 *   <li>arrays: a JSON array (nested for more dimensions) becomes an array literal with every
 *       element quoted; a string is taken as an array literal already.</li>
 * </ul>
 */
public final class SqlValues {

    private static final HexFormat HEX = HexFormat.of();

    private SqlValues() {
    }

    /** The text for {@code value} in {@code column}, or null for SQL NULL. */
    public static String toText(JsonNode value, ColumnMeta column) throws ValueConversionException {
        if (value == null || value.isNull() || value.isMissingNode()) {
            return null;
        }
        return switch (column.kind()) {
            case SCALAR -> scalar(value, column.name(), column.baseType());
            case BYTEA -> bytea(value, column.name());
            case JSON -> json(value);
            case ARRAY -> array(value, column);
        };
    }

    private static String scalar(JsonNode value, String column, String type) throws ValueConversionException {
        if (value.isTextual()) {
            return value.textValue();
        }
        if (value.isBoolean()) {
            return value.booleanValue() ? "true" : "false";
        }
        if (value.isBigDecimal()) {
            return value.decimalValue().toPlainString();
        }
        if (value.isNumber()) {
            return value.asText();
        }
        throw new ValueConversionException("column \"" + column + "\" of type " + type + " needs a scalar value, got a JSON "
                + value.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
    }

    /** A document: a string holds its text; anything else is embedded JSON. */
    private static String json(JsonNode value) {
        return value.isTextual() ? value.textValue() : value.toString();
    }

    private static String bytea(JsonNode value, String column) throws ValueConversionException {
        return "\\x" + HEX.formatHex(base64(value, column));
    }

    private static byte[] base64(JsonNode value, String column) throws ValueConversionException {
        if (!value.isTextual()) {
            throw new ValueConversionException("column \"" + column + "\" of type bytea needs a base64 string, got a JSON "
                    + value.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
        try {
            return Base64.getDecoder().decode(value.textValue());
        } catch (IllegalArgumentException e) {
            // the decoder's message quotes a character of the value: left out
            throw new ValueConversionException("column \"" + column + "\" of type bytea holds invalid base64");
        }
    }

    private static String array(JsonNode value, ColumnMeta column) throws ValueConversionException {
        if (value.isTextual()) {
            return value.textValue();
        }
        if (!value.isArray()) {
            throw new ValueConversionException("column \"" + column.name() + "\" of type " + column.castType()
                    + " needs a JSON array, got a JSON " + value.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
        StringBuilder sb = new StringBuilder(16 + value.size() * 8);
        appendArray(sb, value, column);
        return sb.toString();
    }

    private static void appendArray(StringBuilder sb, JsonNode array, ColumnMeta column) throws ValueConversionException {
        sb.append('{');
        for (int i = 0; i < array.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            JsonNode element = array.get(i);
            if (element == null || element.isNull()) {
                sb.append("NULL");
            } else if (element.isArray() && column.elementKind() != ColumnKind.JSON) {
                appendArray(sb, element, column);
            } else {
                String text = switch (column.elementKind()) {
                    case BYTEA -> "\\x" + HEX.formatHex(base64(element, column.name()));
                    case JSON -> json(element);
                    default -> scalar(element, column.name(), column.castType());
                };
                appendQuoted(sb, text);
            }
        }
        sb.append('}');
    }

    private static void appendQuoted(StringBuilder sb, String text) {
        sb.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c);
        }
        sb.append('"');
    }
}
