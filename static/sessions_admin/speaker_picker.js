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
      });
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
