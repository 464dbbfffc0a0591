/*
 * The pbx-config edit dialog, rendered from the provider registry (window.PbxProviders, written
 * by scripts/build.js): the provider list, each provider's credential and setting rows, its base
 * URL example and the webhook setup hint with the URL filled in. Loaded by pbx-config.html
 * together with pbx-editor.js (either may run first: nothing here runs at load).
 */
(function () {
    'use strict';

    var editor = (window.PbxEditor = window.PbxEditor || {});
    if (editor.prepareConfigDialog) return;

    var WEBHOOK_SECRET = 'webhookSecret';

    /** A pbx-config message (pbx-editor.js). */
    function t(key, substitutions) {
        return editor.t(key, substitutions);
    }

    /** [{field, provider}] of every credential (or setting) name once, with the first provider that declares it. */
    function fieldsOf(list) {
        var seen = {};
        var out = [];
        editor.providerIds().forEach(function (id) {
            editor.provider(id)[list].forEach(function (field) {
                if (Object.prototype.hasOwnProperty.call(seen, field.name)) return;
                seen[field.name] = true;
                out.push(field);
            });
        });
        return out;
    }

    function fieldRow(kind, field, $input, icon) {
        var id = 'node-config-input-' + field.name;
        var $row = $('<div class="form-row">').addClass('pbx-' + kind + '-row').attr('data-' + kind, field.name);
        $('<label>')
            .attr('for', id)
            .append($('<i class="fa">').addClass(icon))
            .append(' ')
            .append($('<span class="pbx-field-label">').text(editor.localized(field.label)))
            .appendTo($row);
        // The space between label and input that the template's own rows have between their lines.
        $row.append(' ');
        $input.attr('id', id).css('width', '70%').appendTo($row);
        return $row;
    }

    function options($select, setting) {
        $select.empty();
        setting.options.forEach(function (o) {
            $('<option>').val(o.value).text(editor.localized(o.label)).appendTo($select);
        });
        return $select;
    }

    /**
     * Writes the registry into the dialog's template, once, before any dialog opens: the provider
     * options and a row for every credential and setting, so that Node-RED fills and saves them
     * like any field of the template.
     */
    function renderConfigTemplate() {
        var $template = $('script[data-template-name="pbx-config"]');
        var $form = $('<div>').html($template.html());
        var $select = $form.find('#node-config-input-provider').empty();
        editor.providerIds().forEach(function (id) {
            $('<option>').val(id).text(editor.label(id)).appendTo($select);
        });
        var $fields = $form.find('.pbx-provider-fields').empty();
        fieldsOf('credentials').forEach(function (c) {
            var icon = c.kind === 'identifier' ? 'fa-user' : 'fa-key';
            fieldRow('credential', c, $('<input type="password">'), icon).appendTo($fields);
        });
        fieldsOf('settings').forEach(function (s) {
            fieldRow('setting', s, options($('<select>'), s), 'fa-sliders').appendTo($fields);
        });
        $template.text($form.html());
    }

    function randomHex(bytes) {
        var a = new Uint8Array(bytes);
        window.crypto.getRandomValues(a);
        return Array.prototype.map.call(a, function (b) {
            return ('0' + b.toString(16)).slice(-2);
        }).join('');
    }

    /** `${NAME}`: Node-RED puts the environment variable's value in its place when the flows start. */
    var ENV_REFERENCE = /^\$\{(\S+)\}$/;

    /** An empty Redis URL (single instance), redis:// or rediss://, or `${VAR}`. */
    function isRedisUrlSetting(v) {
        v = String(v || '').trim();
        return !v || isEnvReference(v) || /^rediss?:\/\/[^\s/?#]+(\/\d{1,2})?\/?$/i.test(v);
    }

    function isEnvReference(v) {
        return ENV_REFERENCE.test(String(v || '').trim());
    }

    /** Empty, an environment variable, or an http(s) URL without query or fragment (the runtime checks the same). */
    function isPublicUrlSetting(v) {
        var url = String(v || '').trim();
        return !url || isEnvReference(url) || /^https?:\/\/[^\s/?#]+[^\s?#]*$/i.test(url);
    }

    /** Copies `text` with Node-RED's clipboard helper (it confirms beside `$button`). */
    function copyText(text, $button) {
        if (RED.clipboard && RED.clipboard.copyText) {
            RED.clipboard.copyText(text, $button, 'clipboard.copyMessageValue');
        } else {
            var $area = $('<textarea>').val(text).appendTo('body').trigger('select');
            document.execCommand('copy');
            $area.remove();
        }
    }

    function normalizePath(p) {
        p = String(p || '').trim();
        if (p.charAt(0) !== '/') p = '/' + p;
        p = p.replace(/\/{2,}/g, '/');
        if (p.length > 1) p = p.replace(/\/+$/, '');
        return p;
    }

    /** The pbx-config oneditprepare. */
    function prepareConfigDialog(node) {
        var $provider = $('#node-config-input-provider');
        var $path = $('#node-config-input-webhookPath');
        var $secret = $('#node-config-input-webhookSecret');
        // A config node being added is not in the workspace yet.
        var isNew = !RED.nodes.node(node.id);

        $('#node-config-input-timeout').spinner({ min: 1000, step: 1000 });

        if (node.provider && !editor.isProvider(node.provider)) {
            // Saved with a provider this version does not have: keep it, say so.
            $('<option>').val(node.provider).text(node.provider + ' (' + t('pbx-config.label.not-installed') + ')').appendTo($provider);
        }
        $provider.val(node.provider || editor.providerIds()[0]);

        if (!node.webhookPath) {
            // New: a random path and secret. Existing without a path: the runtime's default.
            $path.val(isNew ? '/pbx/' + randomHex(8) : '/pbx/' + node.id);
            var hasSecret = node.credentials && (node.credentials.has_webhookSecret || node.credentials.webhookSecret);
            if (isNew && !hasSecret && !$secret.val()) generateSecret();
        }

        function generateSecret() {
            $.getJSON('pbx-config/secret').done(function (data) {
                if (data && data.secret) {
                    $secret.val(data.secret).trigger('change');
                }
            });
        }

        function selected() {
            return editor.provider($provider.val()) || { credentials: [], settings: [], baseUrlPlaceholder: '', webhookHint: null };
        }

        /** Only the selected provider's credential and setting rows, with its own labels and options. */
        function showFields() {
            var p = selected();
            $('.pbx-credential-row, .pbx-setting-row').hide();
            p.credentials.forEach(function (c) {
                var $row = $('.pbx-credential-row[data-credential="' + c.name + '"]').show();
                $row.find('.pbx-field-label').text(editor.localized(c.label));
            });
            p.settings.forEach(function (s) {
                var $row = $('.pbx-setting-row[data-setting="' + s.name + '"]').show();
                $row.find('.pbx-field-label').text(editor.localized(s.label));
                var $select = $row.find('select');
                var current = $select.val() || node[s.name];
                options($select, s).val(current);
                if (!$select.val()) $select.val(s.options[0].value);
            });
            $('#node-config-input-baseUrl').attr('placeholder', p.baseUrlPlaceholder);
        }

        /**
         * The URL the PBX is given: the public URL (as written: an environment variable is only
         * known to the runtime) or else this browser's address, then httpNodeRoot, path and secret.
         */
        function webhookUrl() {
            var publicUrl = String($('#node-config-input-publicUrl').val() || '').trim();
            var base = isPublicUrlSetting(publicUrl) && publicUrl ? publicUrl.replace(/\/+$/, '') : location.origin;
            var root = String(RED.settings.httpNodeRoot || '/').replace(/\/+$/, '');
            var url = base + root + normalizePath($path.val());
            var w = { env: ENV_REFERENCE.exec(publicUrl), browser: base === location.origin };
            var secret = $secret.val();
            if (secret === editor.STORED) return $.extend(w, { url: url + '/{secret}', placeholder: true });
            if (secret) return $.extend(w, { url: url + '/' + encodeURIComponent(secret), known: true });
            return $.extend(w, { url: url, open: true });
        }

        function showWebhook() {
            var w = webhookUrl();
            $('#pbx-config-webhook-url').val(w.url);
            // A typed or generated secret is in the URL until the deploy stores it.
            $('#pbx-config-secret-once').toggle(!!w.known);
            var notes = [];
            if (w.env) notes.push(t('pbx-config.webhook.env-public-url', { name: w.env[1] }));
            if (w.browser) notes.push(t('pbx-config.webhook.browser-address'));
            if (w.placeholder) notes.push(t('pbx-config.webhook.secret-placeholder'));
            if (w.open) notes.push(t('pbx-config.webhook.no-secret'));
            $('#pbx-config-webhook-note').text(notes.join(' ')).toggle(notes.length > 0);
            var hint = editor.fillHint(editor.localized(selected().webhookHint), w.url);
            $('#pbx-config-webhook-hint').text(hint).toggle(!!hint);
        }

        $provider.on('change', function () {
            showFields();
            showWebhook();
            $('#pbx-config-test-result').text('').hide();
        });
        $path.on('change input', showWebhook);
        $secret.on('change input', showWebhook);
        $('#node-config-input-publicUrl').on('change input', showWebhook);

        // The cluster rows matter only with a Redis URL.
        function showCluster() {
            $('.pbx-cluster-row').toggle(!!String($('#node-config-input-redisUrl').val() || '').trim());
        }
        $('#node-config-input-redisUrl').on('change input', showCluster);
        showCluster();

        // Notes that apply only to some runtimes: ask this one.
        $.getJSON('pbx-config/webhook-setup').done(function (setup) {
            $('#pbx-config-admin-root-tip').toggle(!!(setup && setup.bodiesParsedByNodeRed));
            $('#pbx-config-http-node-auth').toggle(!!(setup && setup.httpNodeAuth));
        });

        $('#pbx-config-generate-secret').on('click', function (e) {
            e.preventDefault();
            generateSecret();
        });

        $('#pbx-config-copy-url, #pbx-config-copy-full-url').on('click', function (e) {
            e.preventDefault();
            copyText(webhookUrl().url, $(this));
        });

        $('#pbx-config-test').on('click', function (e) {
            e.preventDefault();
            var id = $provider.val();
            // Only the selected provider's credentials: a stored one of another provider would
            // make the runtime refuse the test for an undeployed node.
            var credentials = {};
            selected().credentials.forEach(function (c) {
                credentials[c.name] = $('#node-config-input-' + c.name).val() || '';
            });
            // The webhook secret plays no part in the connection test; a stored one is not sent.
            var secret = $secret.val() || '';
            credentials[WEBHOOK_SECRET] = secret === editor.STORED ? '' : secret;
            var body = $.extend(
                editor.settingsOf(id, function (name) {
                    return $('#node-config-input-' + name).val();
                }),
                {
                    id: node.id,
                    provider: id,
                    baseUrl: String($('#node-config-input-baseUrl').val() || '').trim(),
                    timeout: Number($('#node-config-input-timeout').val()) || 10000,
                    rejectUnauthorized: $('#node-config-input-rejectUnauthorized').prop('checked'),
                    credentials: credentials
                }
            );
            // With a Redis URL the runtime checks Redis too; a stored password is sent as the placeholder.
            var redisUrl = String($('#node-config-input-redisUrl').val() || '').trim();
            if (redisUrl) {
                body.redisUrl = redisUrl;
                body.keyPrefix = String($('#node-config-input-keyPrefix').val() || '');
                body.redisDown = $('#node-config-input-redisDown').val();
                credentials.redisPassword = $('#node-config-input-redisPassword').val() || '';
            }
            var $result = $('#pbx-config-test-result');
            var $button = $(this).prop('disabled', true);
            $result.removeClass('pbx-ok pbx-fail').text(t('pbx-config.test.running')).show();
            $.ajax({
                url: 'pbx-config/test',
                type: 'POST',
                contentType: 'application/json',
                data: JSON.stringify(body),
                dataType: 'json'
            }).done(function (answer) {
                var ok = !!(answer && answer.ok);
                var text = (answer && answer.message) || '';
                // With a Redis part the message says each part's outcome itself.
                if (!ok && answer && answer.code && !answer.redis) text = answer.code + ': ' + text;
                $result.addClass(ok ? 'pbx-ok' : 'pbx-fail')
                    .text((ok ? t('pbx-config.test.ok') : t('pbx-config.test.failed')) + ' ' + text);
            }).fail(function (xhr) {
                $result.addClass('pbx-fail').text(t('pbx-config.test.failed') + ' HTTP ' + xhr.status);
            }).always(function () {
                $button.prop('disabled', false);
            });
        });

        showFields();
        showWebhook();
    }

    /** The pbx-config oneditsave: the editor reads the inputs after it, so normalise the input itself. */
    function saveConfigDialog() {
        var $path = $('#node-config-input-webhookPath');
        if ($path.val()) $path.val(normalizePath($path.val()));
    }

    editor.renderConfigTemplate = renderConfigTemplate;
    editor.prepareConfigDialog = prepareConfigDialog;
    editor.saveConfigDialog = saveConfigDialog;
    editor.isPublicUrlSetting = isPublicUrlSetting;
    editor.isEnvReference = isEnvReference;
    editor.isRedisUrlSetting = isRedisUrlSetting;
})();
