'use strict';
// The session form's speaker box: Django's bundled select2, fed by the event's speakers.
// Picked speakers keep the order they were picked in, which is the billing order saved.
{
  const $ = django.jQuery;
  $(function () {
    $('select.speaker-autocomplete').each(function () {
      const box = $(this);
      box.select2({
        ajax: {
          url: this.dataset.url,
          dataType: 'json',
          delay: 200,
          data: (params) => ({ term: params.term || '', page: params.page || 1 }),
        },
        placeholder: this.dataset.placeholder,
        allowClear: false,
        width: 'style',
        // Django's theme for select2: its colours follow the admin's light and dark themes.
        theme: 'admin-autocomplete',
      });
      // select2's type-ahead box has no label of its own: give it the field's.
      const label = document.querySelector(`label[for="${this.id}"]`);
      const name = label ? label.textContent.replace(/:$/, '').trim() : 'Speakers';
      const labelSearch = () => box.next('.select2').find('.select2-search__field')
        .attr('aria-label', `${name}: type a speaker's name`);
      labelSearch();
      box.on('change select2:open select2:close', labelSearch);
      // select2 keeps <option>s in DOM order; move a new pick to the end so the posted
      // order is the order of picking.
      box.on('select2:select', (e) => {
        const option = box.find(`option[value="${e.params.data.id}"]`);
        option.detach();
        box.append(option);
        box.trigger('change');
      });
    });
  });
}
